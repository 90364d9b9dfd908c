#!/usr/bin/env bash
# Read throughput against a yardstick, in one run: the reference server (bench/reference.rs, a fixed
# JSON answer on the same axum and tokio), rudata on SQLite and on PostgreSQL, and the real udata
# (the peer in shared/udata-peer, where it starts), each seeded with the same datasets through its
# API. Requests: GET one dataset (anonymous, and with an API key), a list page of 20, and a 304
# revalidation (If-None-Match with the dataset's ETag). Prints a markdown table; exits non-zero on
# any failure (a build, a server that does not start, an answer that is not the one expected).
#
# Usage: bench/reads.sh
# Env: DUR=8s CONN=32 THREADS=1 (wrk), DATASETS=25,
#      PG_URL=postgres://postgres@127.0.0.1:5432/test (its server also gets a scratch database),
#      UDATA_PEER=<dir of the udata peer> (default: ../shared/udata-peer beside the repository;
#      empty: no udata column), RUDATA_BIN (a rudata binary to measure instead of this tree's).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# A load generator is one client far past any rate limit: none while measuring.
export RUDATA_RATE_LIMIT_ANONYMOUS=0 RUDATA_RATE_LIMIT_AUTHENTICATED=0
DUR=${DUR:-8s}
CONN=${CONN:-32}
THREADS=${THREADS:-1}
DATASETS=${DATASETS:-25}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
UDATA_PEER=${UDATA_PEER-$(cd "$ROOT/.." && pwd)/shared/udata-peer}
PG_DB=rudata_bench_reads
export PGOPTIONS=--client-min-messages=warning

die() { echo "reads.sh: $*" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk is needed: apt-get install wrk"
fi
for tool in curl python3 psql; do command -v $tool >/dev/null || die "$tool is needed"; done

echo "building (release, with the reference server)..." >&2
cargo build --release -q -p rudata -p reference
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
# RUDATA_BIN: another build of rudata to measure (an earlier commit's, for a before/after).
BIN=${RUDATA_BIN:-$TARGET/release/rudata}
REFERENCE=$TARGET/release/reference

WORK=$(mktemp -d)
PIDS=()
PEER_STARTED=
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$PEER_STARTED" ]; then "$PEER_HOME/stop-udata.sh" >/dev/null 2>&1 || true; fi
  psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Waits for "$2 listening on URL" in file $1 (the server's pid is $3); sets URL.
wait_listening() {
  for _ in $(seq 1 300); do
    grep -q "listening on" "$1" 2>/dev/null && break
    kill -0 "$3" 2>/dev/null || die "$2 exited at start: $(tail -5 "$1" "${1%out}err" 2>/dev/null)"
    sleep 0.1
  done
  URL=$(sed -n "s/^$2 listening on //p" "$1")
  [ -n "$URL" ] || die "$2 did not start"
}

start_reference() {
  "$REFERENCE" 127.0.0.1:0 >"$WORK/reference.out" 2>&1 &
  PIDS+=($!)
  wait_listening "$WORK/reference.out" reference $!
  REF_URL=$URL/
}

# $1 = name, $2 = database url or "". Sets API (…/api/1) and KEY (the first user's API key).
start_rudata() {
  local dir=$WORK/$1
  mkdir -p "$dir"
  local args=(--data-dir "$dir")
  [ -n "$2" ] && args+=(--database-url "$2")
  RUST_LOG=warn "$BIN" "${args[@]}" serve --bind 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
  PIDS+=($!)
  wait_listening "$dir/out" rudata $!
  API=$URL/api/1
  KEY=$(grep -o 'udata_[A-Za-z0-9_-]*' "$dir/out" | head -1)
  [ -n "$KEY" ] || die "no API key printed by rudata ($1)"
}

# Seeds $DATASETS datasets of 3 to 5 remote resources through the API at $API with $KEY; sets ONE
# (the last dataset's id).
seed() {
  local i r id
  for i in $(seq 1 "$DATASETS"); do
    id=$(curl -sf -X POST "$API/datasets/" -H "X-API-KEY: $KEY" -H 'Content-Type: application/json' \
      -d "{\"title\": \"Jeu de données $i\", \"description\": \"Description du jeu de données $i, publié pour la mesure.\", \"tags\": [\"budget\", \"ville-$((i % 10))\"], \"license\": \"lov2\", \"frequency\": \"monthly\"}" |
      python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])') || die "creating a dataset at $API"
    for r in $(seq 1 $((3 + i % 3))); do
      curl -sf -o /dev/null -X POST "$API/datasets/$id/resources/" -H "X-API-KEY: $KEY" -H 'Content-Type: application/json' \
        -d "{\"title\": \"Fichier $r\", \"filetype\": \"remote\", \"url\": \"https://example.org/$i/$r.csv\", \"format\": \"csv\"}" ||
        die "creating a resource at $API"
    done
  done
  ONE=$id
}

# The answer's status must be $1 (checked once before measuring): $2... = curl arguments.
expect() {
  local want=$1 got
  shift
  got=$(curl -s -o /dev/null -w '%{http_code}' "$@")
  [ "$got" = "$want" ] || die "expected $want, got $got: curl $*"
}

# The dataset's ETag (anonymous answer).
etag_of() {
  curl -sf -D - -o /dev/null "$1" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p'
}

# Prints the requests per second of wrk on $1 (URL) with headers $2... ("Name: value").
rps() {
  local url=$1 out
  shift
  local hs=()
  for h in "$@"; do hs+=(-H "$h"); done
  out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" ${hs[@]+"${hs[@]}"} "$url") || die "wrk failed on $url"
  if echo "$out" | grep -q "Non-2xx or 3xx"; then
    die "errors while measuring $url: $(echo "$out" | grep 'Non-2xx or 3xx')"
  fi
  echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}'
}

# Seeds and checks a rudata backend; sets the URLs and headers measured on it.
prepare_rudata() { # $1 = name, $2 = database url or ""
  start_rudata "$1" "$2"
  seed
  DS_URL=$API/datasets/$ONE/
  LIST_URL="$API/datasets/?page_size=20"
  expect 200 "$DS_URL"
  expect 200 -H "X-API-KEY: $KEY" "$DS_URL"
  expect 200 "$LIST_URL"
  ETAG=$(etag_of "$DS_URL")
  [ -n "$ETAG" ] || die "no ETag on $DS_URL"
  expect 304 -H "If-None-Match: $ETAG" "$DS_URL"
}

# Measures the four requests on the prepared rudata backend; appends "label rps" lines to $WORK/rows.
measure_rudata() { # $1 = backend label
  echo "$1|GET one dataset, anonymous|$(rps "$DS_URL")" >>"$WORK/rows"
  echo "$1|GET one dataset, with an API key|$(rps "$DS_URL" "X-API-KEY: $KEY")" >>"$WORK/rows"
  echo "$1|list page of 20|$(rps "$LIST_URL")" >>"$WORK/rows"
  # What Python's requests sends on every call: the cache's compressed copy.
  echo "$1|list page of 20, Accept-Encoding: gzip|$(rps "$LIST_URL" "Accept-Encoding: gzip, deflate")" >>"$WORK/rows"
  echo "$1|304 revalidation of one dataset|$(rps "$DS_URL" "If-None-Match: $ETAG")" >>"$WORK/rows"
}

# --- the servers, seeded -----------------------------------------------------------------------
echo "starting the servers and seeding $DATASETS datasets on each..." >&2
start_reference
expect 200 "$REF_URL"

prepare_rudata sqlite ""
SQLITE=("$DS_URL" "$LIST_URL" "$KEY" "$ETAG")
psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null ||
  die "cannot create the scratch database on $PG_URL"
prepare_rudata postgres "${PG_URL%/*}/$PG_DB"
POSTGRES=("$DS_URL" "$LIST_URL" "$KEY" "$ETAG")

UDATA=
if [ -n "$UDATA_PEER" ] && [ -x "$UDATA_PEER/start" ]; then
  # A home of its own (its stop script stops only what it started), with the venv of the usual
  # home when that one is installed already.
  PEER_HOME=$HOME/.cache/udata-peer-bench
  mkdir -p "$PEER_HOME"
  if [ ! -e "$PEER_HOME/venv" ] && [ -x "$HOME/.cache/udata-peer/venv/bin/gunicorn" ]; then
    ln -s "$HOME/.cache/udata-peer/venv" "$PEER_HOME/venv"
  fi
  PEER_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  PEER_STARTED=1
  if KEY=$(PEER_PORT=$PEER_PORT PEER_ACCESS_LOG=0 UDATA_PEER_HOME=$PEER_HOME "$UDATA_PEER/start" 2>"$WORK/udata.err"); then
    API=http://127.0.0.1:$PEER_PORT/api/1
    seed
    UDATA_DS=$API/datasets/$ONE/
    UDATA_LIST="$API/datasets/?page_size=20"
    UDATA_KEY=$KEY
    expect 200 "$UDATA_DS"
    expect 200 "$UDATA_LIST"
    UDATA=1
  else
    echo "the udata peer did not start (no udata column): $(tail -3 "$WORK/udata.err")" >&2
  fi
fi

# --- the measures, back to back ----------------------------------------------------------------
echo "measuring (wrk -t$THREADS -c$CONN -d$DUR each)..." >&2
: >"$WORK/rows"
REF1=$(rps "$REF_URL")
DS_URL=${SQLITE[0]} LIST_URL=${SQLITE[1]} KEY=${SQLITE[2]} ETAG=${SQLITE[3]}
measure_rudata SQLite
DS_URL=${POSTGRES[0]} LIST_URL=${POSTGRES[1]} KEY=${POSTGRES[2]} ETAG=${POSTGRES[3]}
measure_rudata PostgreSQL
REF2=$(rps "$REF_URL")
U_ONE= U_KEY= U_LIST=
if [ -n "$UDATA" ]; then
  U_ONE=$(rps "$UDATA_DS")
  U_KEY=$(rps "$UDATA_DS" "X-API-KEY: $UDATA_KEY")
  U_LIST=$(rps "$UDATA_LIST")
fi
REF=$(((REF1 + REF2) / 2))

# --- the table -----------------------------------------------------------------------------------
ratio() { # $1 / $2 with 2 decimals (empty when $2 is)
  [ -n "$2" ] && [ "$2" != 0 ] && python3 -c "print(f'{$1 / $2:.2f}')"
}
times() { # $1 / $2 as a whole multiple (empty when $2 is)
  [ -n "$2" ] && [ "$2" != 0 ] && python3 -c "print(f'{$1 / $2:.0f}×')"
}
echo
echo "wrk -t$THREADS -c$CONN -d$DUR; $DATASETS datasets of 3-5 remote resources on each server; $(nproc) cores shared by wrk and the server."
echo "Reference: $REF req/s (mean of $REF1 before and $REF2 after the rudata runs)."
[ -n "$UDATA" ] && echo "udata 17.18 (the peer: mongomock, one gunicorn worker): dataset $U_ONE, with a key $U_KEY, list $U_LIST req/s."
echo
echo "| request | req/s | × reference | × udata |"
echo "|---|---|---|---|"
echo "| reference (fixed JSON, no I/O) | $REF | 1.00 | |"
while IFS='|' read -r backend label n; do
  udata=
  case "$label" in
    "GET one dataset, anonymous") udata=$U_ONE ;;
    "GET one dataset, with an API key") udata=$U_KEY ;;
    "list page of 20") udata=$U_LIST ;;
  esac
  echo "| $backend: $label | $n | $(ratio "$n" "$REF") | $(times "$n" "$udata") |"
done <"$WORK/rows"
