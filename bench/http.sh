#!/usr/bin/env bash
# Read throughput and latency of the API on SQLite and on PostgreSQL, same machine, same run:
# GET one dataset (3 resources) and GET a page of 20 datasets, with wrk.
# Usage: bench/http.sh            (env: DUR=10s CONN=32 DATASETS=200 PG_URL=postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail
cd "$(dirname "$0")/.."
# A load generator is one client far past any rate limit: none while measuring.
export RUDATA_RATE_LIMIT_ANONYMOUS=0 RUDATA_RATE_LIMIT_AUTHENTICATED=0
# The generated catalog's remote URLs are made up: no remote checks (they would fetch them).
export RUDATA_CHECK_ENABLED=false
DUR=${DUR:-10s}
CONN=${CONN:-32}
DATASETS=${DATASETS:-200}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/rudata
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS rudata_bench WITH (FORCE)" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start() { # $1 = name, $2 = database url or ""
  local dir=$WORK/$1
  mkdir -p "$dir"
  local args=(--data-dir "$dir")
  [ -n "$2" ] && args+=(--database-url "$2")
  RUST_LOG=warn "$BIN" "${args[@]}" serve --bind 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  API=$(sed -n 's/^rudata listening on //p' "$dir/out")/api/1
  KEY=$(grep -o 'udata_[A-Za-z0-9_-]*' "$dir/out")
}

seed() {
  for i in $(seq 1 "$DATASETS"); do
    id=$(curl -sf -X POST "$API/datasets/" -H "X-API-KEY: $KEY" -H 'Content-Type: application/json' \
      -d "{\"title\": \"Jeu de données $i\", \"description\": \"Description du jeu $i\", \"tags\": [\"budget\", \"ville-$((i % 10))\"], \"license\": \"lov2\", \"frequency\": \"monthly\"}" |
      python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
    for r in 1 2 3; do
      curl -sf -o /dev/null -X POST "$API/datasets/$id/resources/" -H "X-API-KEY: $KEY" -H 'Content-Type: application/json' \
        -d "{\"title\": \"Fichier $r\", \"filetype\": \"remote\", \"url\": \"https://example.org/$i/$r.csv\", \"format\": \"csv\"}"
    done
  done
  ONE=$id
}

measure() { # $1 = label, $2 = url
  local out
  out=$(wrk -t2 -c"$CONN" -d"$DUR" --latency "$2")
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf "| %s | %s | %s | %s |\n" "$1" "$rps" "$p50" "$p99"
}

echo "wrk -t2 -c$CONN -d$DUR --latency, $DATASETS datasets of 3 resources, $(nproc) cores shared by wrk and rudata"
echo
echo "| backend / request | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
start sqlite ""
seed
measure "SQLite: GET /datasets/{id}/" "$API/datasets/$ONE/"
measure "SQLite: GET /datasets/?page_size=20" "$API/datasets/?page_size=20"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=

psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS rudata_bench WITH (FORCE)" -c "CREATE DATABASE rudata_bench"
start postgres "${PG_URL%/*}/rudata_bench"
seed
measure "PostgreSQL: GET /datasets/{id}/" "$API/datasets/$ONE/"
measure "PostgreSQL: GET /datasets/?page_size=20" "$API/datasets/?page_size=20"
