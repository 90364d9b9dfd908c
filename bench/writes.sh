#!/usr/bin/env bash
# Write throughput and latency of the API on SQLite and on PostgreSQL, same machine, same run:
#  1. POST /datasets/ by CLIENTS concurrent clients at each catalog size of SIZES (the catalog is
#     filled through the API by the same clients, and the fill rate is reported too); at each size,
#     N creations with distinct titles, then N creations sharing one title (slug allocation).
#  2. POST /datasets/{id}/resources/ (a remote resource) to a dataset already holding each number of
#     resources of RES_SIZES (filled through the API), with 1 and with 8 clients (RES_CLIENTS): a
#     fresh dataset per measurement, so every measurement starts at exactly that size.
# Prints one Markdown table per backend (stdout; progress goes to stderr) and the command line.
#
# Usage: bench/writes.sh     (env, with their defaults:
#   BACKENDS="sqlite postgres" SIZES="0 50000 100000" CLIENTS=8 N=2000
#   RES_SIZES="10 1000 10000" RES_CLIENTS="1 8" RES_N=500
#   MAX_SECS=60 (per measurement) FILL_MAX_SECS=3600 (per fill)
#   PG_URL=postgres://postgres@127.0.0.1:5432/test (its server gets a database rudata_bench_writes))
# Small run (30 s): SIZES="0 2000" N=500 RES_SIZES="10 200" bench/writes.sh
#   (the measurements at a size add 2 × N datasets: with N=2000 the catalog would already be past 2000)
# Needs: cargo, python3 (standard library only), and psql for the PostgreSQL backend. Installs nothing.
# Every request goes to the server started here on 127.0.0.1; every loop is bounded in count and time.
set -euo pipefail
cd "$(dirname "$0")/.."
# A load generator is one client far past any rate limit: none while measuring.
export RUDATA_RATE_LIMIT_ANONYMOUS=0 RUDATA_RATE_LIMIT_AUTHENTICATED=0
# The generated catalog's remote URLs are made up: no remote checks (they would fetch them).
export RUDATA_CHECK_ENABLED=false
BACKENDS=${BACKENDS:-sqlite postgres}
SIZES=${SIZES:-0 50000 100000}
CLIENTS=${CLIENTS:-8}
N=${N:-2000}
RES_SIZES=${RES_SIZES:-10 1000 10000}
RES_CLIENTS=${RES_CLIENTS:-1 8}
RES_N=${RES_N:-500}
MAX_SECS=${MAX_SECS:-60}
FILL_MAX_SECS=${FILL_MAX_SECS:-3600}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_DB=rudata_bench_writes
# psql on PG_URL's server; no NOTICE when the database to drop is absent.
pg() { PGOPTIONS="-c client_min_messages=warning" psql -q "$PG_URL" "$@"; }

COMMAND="BACKENDS=\"$BACKENDS\" SIZES=\"$SIZES\" CLIENTS=$CLIENTS N=$N RES_SIZES=\"$RES_SIZES\""
COMMAND+=" RES_CLIENTS=\"$RES_CLIENTS\" RES_N=$RES_N MAX_SECS=$MAX_SECS FILL_MAX_SECS=$FILL_MAX_SECS"
case " $BACKENDS " in *" postgres "*)
  COMMAND+=" PG_URL=$(sed 's#://\([^:@/]*\):[^@/]*@#://\1:***@#' <<<"$PG_URL")" ;;
esac
COMMAND+=" bench/writes.sh"

for b in $BACKENDS; do
  case $b in sqlite | postgres) ;; *) echo "unknown backend $b (sqlite, postgres)" >&2; exit 1 ;; esac
done
need() { command -v "$1" >/dev/null || { echo "$1 is needed: $2" >&2; exit 1; }; }
need cargo "https://rustup.rs"
need python3 "apt-get install python3"
case " $BACKENDS " in *" postgres "*) need psql "apt-get install postgresql-client" ;; esac

T0=$(date +%s)
log() { echo "[$(($(date +%s) - T0)) s] $*" >&2; }

log "cargo build --release"
cargo build --release -q
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$PWD/$TARGET ;; esac
BIN=$TARGET/release/rudata
HELPER=(python3 "$PWD/bench/writes.py")
WORK=$(mktemp -d)
SERVER_PID=
PG_CREATED=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
cleanup() {
  stop_server
  if [ -n "$PG_CREATED" ]; then
    pg -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # $1 = name, $2 = database url or ""
  local dir=$WORK/$1
  mkdir -p "$dir"
  local args=(--data-dir "$dir")
  [ -n "$2" ] && args+=(--database-url "$2")
  RUST_LOG=warn "$BIN" "${args[@]}" serve --bind 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do # 30 s at most
    grep -q "listening on" "$dir/out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  API=$(sed -n 's/^rudata listening on //p' "$dir/out")/api/1
  KEY=$(grep -o 'udata_[A-Za-z0-9_-]*' "$dir/out" || true)
  if [ "$API" = /api/1 ] || [ -z "$KEY" ]; then
    echo "the $1 server did not start:" >&2
    cat "$dir/out" "$dir/err" >&2
    exit 1
  fi
  case $API in http://127.0.0.1:*) ;; *) echo "unexpected address $API" >&2; exit 1 ;; esac
}

commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

# $1 = operation, $2 = state before, then the helper's line: done secs rate mean p50 p99 stopped_by
row() {
  local op=$1 before=$2 done secs rate mean p50 p99 stopped
  read -r done secs rate mean p50 p99 stopped <<<"$3"
  local count
  count=$(commas "$done")
  [ "$stopped" = time ] && count+=" (time limit)"
  printf "| %s | %s | %s | %s | %s ms | %s ms | %s ms |\n" \
    "$op" "$before" "$count" "$(commas "$rate")" "$mean" "$p50" "$p99" >>"$TABLE"
}

total() { "${HELPER[@]}" total --api "$API"; }

bench_backend() { # $1 = label
  TABLE=$WORK/table-$1
  echo "| $1: write | before | done | per second | mean | p50 | p99 |" >"$TABLE"
  echo "|---|---|---|---|---|---|---|" >>"$TABLE"
  local size have out next=1
  for size in $SIZES; do
    have=$(total)
    if [ "$have" -lt "$size" ]; then
      log "$1: filling the catalog from $have to $size datasets"
      out=$("${HELPER[@]}" datasets --api "$API" --key "$KEY" --clients "$CLIENTS" \
        --count $((size - have)) --max-secs "$FILL_MAX_SECS" --start "$next")
      next=$((next + size - have))
      row "fill the catalog, $CLIENTS clients" "$(commas "$have") → $(commas "$(total)") datasets" "$out"
      have=$(total)
    fi
    log "$1: $N creations, distinct titles, at $have datasets"
    out=$("${HELPER[@]}" datasets --api "$API" --key "$KEY" --clients "$CLIENTS" \
      --count "$N" --max-secs "$MAX_SECS" --start "$next")
    next=$((next + N))
    row "create, distinct titles, $CLIENTS clients" "$(commas "$have") datasets" "$out"
    have=$(total)
    log "$1: $N creations, one shared title, at $have datasets"
    # A title of its own per size: every such run starts with no dataset of that title.
    out=$("${HELPER[@]}" datasets --api "$API" --key "$KEY" --clients "$CLIENTS" \
      --count "$N" --max-secs "$MAX_SECS" --same-title "Titre partagé $size")
    row "create, one shared title, $CLIENTS clients" "$(commas "$have") datasets" "$out"
  done

  local r c id filled
  for r in $RES_SIZES; do
    for c in $RES_CLIENTS; do
      id=$("${HELPER[@]}" dataset --api "$API" --key "$KEY" --title "Ressources $r $c")
      filled=0
      if [ "$r" -gt 0 ]; then
        log "$1: filling a dataset with $r resources"
        out=$("${HELPER[@]}" resources --api "$API" --key "$KEY" --dataset "$id" --clients "$CLIENTS" \
          --count "$r" --max-secs "$FILL_MAX_SECS")
        filled=${out%% *}
        row "fill a dataset, $CLIENTS clients" "0 → $(commas "$filled") resources" "$out"
      fi
      log "$1: $RES_N resource additions, $c client(s), at $filled resources"
      out=$("${HELPER[@]}" resources --api "$API" --key "$KEY" --dataset "$id" --clients "$c" \
        --count "$RES_N" --max-secs "$MAX_SECS" --start "$filled")
      row "add a resource, $c client$([ "$c" = 1 ] || echo s)" "$(commas "$filled") resources" "$out"
    done
  done
}

for b in $BACKENDS; do
  case $b in
  sqlite)
    start sqlite ""
    bench_backend SQLite
    ;;
  postgres)
    pg -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
    PG_CREATED=1
    start postgres "${PG_URL%/*}/$PG_DB"
    bench_backend PostgreSQL
    ;;
  esac
  stop_server
done

echo '```sh'
echo "$COMMAND"
echo '```'
echo
echo "$(date -u +%F), rudata $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src migrations Cargo.toml Cargo.lock || echo ' (modified)'),"
echo "$(nproc) cores shared by the clients (bench/writes.py) and rudata; $(($(date +%s) - T0)) s in all."
for b in $BACKENDS; do
  echo
  case $b in sqlite) cat "$WORK/table-SQLite" ;; postgres) cat "$WORK/table-PostgreSQL" ;; esac
done
