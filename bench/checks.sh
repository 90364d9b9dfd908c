#!/usr/bin/env bash
# Remote checks (issue "Remote resources that keep themselves true"): checks per second against a
# local HTTP server (python3's threading http.server) serving RESOURCES small files, with one node,
# then two (two `rudata checks run` processes sharing the queue of one SQLite database), and the peak
# memory of each process.
#
# Usage: bench/checks.sh   (env, with their defaults: RESOURCES=10000 CONCURRENCY=16 NODES="1 2"
#        BIN=target/debug/rudata)
# Needs: python3, sqlite3, /usr/bin/time. Every request goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
RESOURCES=${RESOURCES:-10000}
CONCURRENCY=${CONCURRENCY:-16}
BIN=${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/rudata}
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/www"
for i in $(seq 0 99); do printf 'a,b\n%d,%d\n' "$i" "$i" > "$WORK/www/f$i.csv"; done
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/www" >/dev/null 2>&1 &
SERVER_PID=$!
export RUDATA_CHECK_ALLOW_NETWORKS=127.0.0.0/8 RUDATA_CHECK_HOST_DELAY=0 \
  RUDATA_CHECK_CONCURRENCY=$CONCURRENCY RUST_LOG=warn
"$BIN" --data-dir "$WORK/data" generate --datasets $((RESOURCES / 5)) --resources "$RESOURCES" >/dev/null
# Point every generated remote resource at the local server (100 distinct files).
sqlite3 "$WORK/data/rudata.db" "
  UPDATE resources SET doc = json_set(doc, '$.url',
    'http://127.0.0.1:$PORT/f' || (rowid % 100) || '.csv');
  UPDATE resource_checks SET url = (SELECT json_extract(r.doc, '$.url') FROM resources r
    WHERE r.id = resource_checks.resource_id), host = '127.0.0.1';"
total=$(sqlite3 "$WORK/data/rudata.db" "SELECT COUNT(*) FROM resource_checks")
run() { # $1 = label, $2 = nodes
  local start end
  # Every check due, as never checked (a full GET each), before each run.
  sqlite3 "$WORK/data/rudata.db" "UPDATE resource_checks SET due_at = '2000-01-01T00:00:00.000000+00:00',
    checked_at = NULL, etag = NULL, last_modified = NULL, content_length = NULL, checksum = NULL"
  start=$(date +%s.%N)
  local pids=()
  for n in $(seq 1 "$2"); do
    /usr/bin/time -f "%M" -o "$WORK/mem$n" "$BIN" --data-dir "$WORK/data" checks run >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
  end=$(date +%s.%N)
  local mem
  mem=$(cat "$WORK"/mem* | sort -n | tail -1)
  rm -f "$WORK"/mem*
  awk -v l="$1" -v t="$total" -v s="$start" -v e="$end" -v m="$mem" \
    'BEGIN { printf "%-8s %6d checks in %6.1f s: %7.1f checks/s, peak RSS %d MiB per node\n", l, t, e - s, t / (e - s), m / 1024 }'
}
for n in ${NODES:-1 2}; do
  if [ "$n" = 1 ]; then run "1 node" 1; else run "$n nodes" "$n"; fi
done
