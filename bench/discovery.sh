#!/usr/bin/env bash
# Discovery at catalog scale (issue "Discovery at catalog scale"), on SQLite and on PostgreSQL, same
# machine, same run: `rudata generate` loads DATASETS datasets with RESOURCES resources spread over
# them and one dataset of BIG resources; then wrk with CONN connections measures each page request,
# and curl times the full resources.csv. Reports the time of one request alone (median of 5 with curl),
# requests/s, p50 and p99 under load, and the server's peak memory.
#
# Usage: bench/discovery.sh   (env, with their defaults:
#   BACKENDS="sqlite postgres" DATASETS=100000 RESOURCES=1000000 BIG=10000 CONN=32 DUR=10s
#   CACHE="on off": a pass with the response cache (wrk repeats one URL: after the first request,
#   every answer comes from the cache), and one without it (RUDATA_CACHE_SIZE=0: every request
#   computes its answer).
#   PG_URL=postgres://postgres@127.0.0.1:5432/test (its server gets a database rudata_bench_discovery))
# Small run: DATASETS=5000 RESOURCES=50000 BIG=2000 DUR=3s bench/discovery.sh
# KEEP=dir keeps each generated catalog (dir/<backend>, and the PostgreSQL database) and reuses it on
# the next run with the same KEEP, so that runs after a change skip the generation.
# Needs: cargo, wrk, curl, python3, and psql for PostgreSQL. Installs nothing. Every request goes to
# the server started here on 127.0.0.1; wrk runs for DUR per request.
set -euo pipefail
cd "$(dirname "$0")/.."
# A load generator is one client far past any rate limit: none while measuring.
export RUDATA_RATE_LIMIT_ANONYMOUS=0 RUDATA_RATE_LIMIT_AUTHENTICATED=0
# The generated catalog's remote URLs are made up: no remote checks (they would fetch them).
export RUDATA_CHECK_ENABLED=false
BACKENDS=${BACKENDS:-sqlite postgres}
DATASETS=${DATASETS:-100000}
RESOURCES=${RESOURCES:-1000000}
BIG=${BIG:-10000}
CONN=${CONN:-32}
DUR=${DUR:-10s}
CACHE=${CACHE:-on off}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
for tool in cargo wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/rudata
WORK=$(mktemp -d)
SERVER_PID=
DB=rudata_bench_discovery
KEEP=${KEEP:-}
[ -n "$KEEP" ] && mkdir -p "$KEEP"
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  if [ -z "$KEEP" ]; then
    psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

measure() { # $1 = label, $2 = url
  local out rps p50 p99 alone
  # One request at a time first (the median of 5): what a request costs the server by itself.
  alone=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' "$2"; done |
    sort -n | sed -n 3p | awk '{printf "%.1fms", $1 * 1000}')
  out=$(wrk -t2 -c"$CONN" -d"$DUR" --latency "$2")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  local errors
  errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf "| %s | %s | %s | %s | %s | %s |\n" "$1" "$alone" "$rps" "$p50" "$p99" "${errors:-0}"
}

run() { # $1 = backend name, $2 = database url or ""
  local dir=${KEEP:-$WORK}/$1 args
  mkdir -p "$dir"
  args=(--data-dir "$dir")
  [ -n "$2" ] && args+=(--database-url "$2")
  local started=$SECONDS
  local made
  if [ -n "$KEEP" ] && [ -s "$dir/made" ]; then
    made=$(cat "$dir/made")
  else
    made=$(RUST_LOG=warn "$BIN" "${args[@]}" generate --datasets "$DATASETS" --resources "$RESOURCES" \
      --big-dataset "$BIG" --organizations 500 2>/dev/null)
    echo "$made" >"$dir/made"
  fi
  echo "$1: generated: $made ($((SECONDS - started)) s)" >&2
  # Statistics for PostgreSQL's planner, as autovacuum keeps them on a normal server (this machine's
  # PostgreSQL runs with autovacuum off: without this, every plan is made blind after a bulk load).
  if [ -n "$2" ]; then psql -q "$2" -c "VACUUM ANALYZE"; fi
  local big=${made##* } cache
  for cache in $CACHE; do
    serve_and_measure "$1" "$dir" "$made" "$big" "$cache" "${args[@]}"
  done
}

serve_and_measure() { # $1 = backend name, $2 = dir, $3 = what was made, $4 = big dataset, $5 = on|off, then args
  local name=$1 dir=$2 made=$3 big=$4 cache=$5 size=64M
  shift 5
  [ "$cache" = off ] && size=0
  RUST_LOG=warn RUDATA_CACHE_SIZE=$size "$BIN" "$@" serve --bind 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  local base api org
  base=$(sed -n 's/^rudata listening on //p' "$dir/out")
  api=$base/api/1
  org=$(curl -sf "$api/organizations/?page_size=1" | python3 -c 'import sys, json; print(json.load(sys.stdin)["data"][0]["id"])')
  echo
  echo "**$name, response cache $cache** ($made)"
  echo
  echo "| request | one request alone | requests/s | p50 | p99 | non-2xx |"
  echo "|---|---|---|---|---|---|"
  measure "search, two words (q=budget lyon)" "$api/datasets/?q=budget%20lyon"
  measure "search, accented (q=écoles)" "$api/datasets/?q=%C3%A9coles"
  measure "search, accent-folded (q=ecoles)" "$api/datasets/?q=ecoles"
  measure "list, page 1" "$api/datasets/"
  measure "list, page 2,000" "$api/datasets/?page=2000"
  measure "tag + organization" "$api/datasets/?tag=budget&organization=$org"
  measure "sort=-last_update" "$api/datasets/?sort=-last_update"
  measure "v2 search with facets" "$base/api/2/datasets/search/?q=budget&facets=license,format,organization,tag,frequency"
  measure "v2 resource page of the $BIG-resource dataset (page 100)" "$base/api/2/datasets/$big/resources/?page=100&page_size=50"
  measure "v2 resource page of the $BIG-resource dataset (page 1)" "$base/api/2/datasets/$big/resources/?page=1&page_size=50"
  local t0 t1 bytes
  t0=$(date +%s.%N)
  bytes=$(curl -sf "$api/site/resources.csv" | wc -c)
  t1=$(date +%s.%N)
  local lines
  lines=$(curl -sf "$api/site/resources.csv" | wc -l)
  echo
  printf "resources.csv: %s bytes, %s lines in %.1f s. " "$bytes" "$lines" "$(python3 -c "print($t1 - $t0)")"
  printf "Server peak memory (VmHWM): %s\n" "$(awk '/VmHWM/ {print $2, $3}' "/proc/$SERVER_PID/status")"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

echo "bench/discovery.sh: DATASETS=$DATASETS RESOURCES=$RESOURCES BIG=$BIG CONN=$CONN DUR=$DUR"
echo "$(date -u +%F), rudata $(git rev-parse --short HEAD), $(nproc) cores shared by wrk and rudata; wrk -t2 -c$CONN -d$DUR --latency"
for b in $BACKENDS; do
  case $b in
    sqlite) run SQLite "" ;;
    postgres)
      if [ -z "$KEEP" ] || [ ! -s "$KEEP/PostgreSQL/made" ]; then
        psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
      fi
      run PostgreSQL "${PG_URL%/*}/$DB"
      ;;
  esac
done
