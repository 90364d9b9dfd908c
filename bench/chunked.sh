#!/usr/bin/env bash
# A chunked upload (udata's protocol) with its parts sent in parallel by curl, then the final request
# with the file's sha1; prints the time of the parts, of the final request, and the throughput.
# Against a running server:  API=http://host/api/1 KEY=<api key> DS=<dataset id> bench/chunked.sh
# Without API: starts a release build on a temporary --data-dir (local storage) and makes a dataset.
# env: SIZE_MB=512 (size of the generated file; or FILE=path), PART=20000000 (bytes a part, as
# data.gouv.fr's front end), JOBS=4 (parts in flight).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-512}
PART=${PART:-20000000}
JOBS=${JOBS:-4}
WORK=$(mktemp -d -p "${BENCH_DIR:-$PWD}" bench.XXXX)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
now() { date +%s.%N; }

if [ -z "${API:-}" ]; then
  export RUDATA_RATE_LIMIT_ANONYMOUS=0 RUDATA_RATE_LIMIT_AUTHENTICATED=0
  BIN=${BIN:-}
  if [ -z "$BIN" ]; then cargo build --release -q; BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/rudata; fi
  RUST_LOG=warn "$BIN" --data-dir "$WORK/data" serve --bind 127.0.0.1:0 >"$WORK/out" 2>"$WORK/err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
  API=$(sed -n 's/^rudata listening on //p' "$WORK/out")/api/1
  KEY=$(grep -o 'udata_[A-Za-z0-9_-]*' "$WORK/out")
  DS=$(curl -sf -X POST "$API/datasets/" -H "X-API-KEY: $KEY" -H 'Content-Type: application/json' \
    -d '{"title": "Bench", "description": "bench"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
fi

FILE=${FILE:-}
if [ -z "$FILE" ]; then
  FILE=$WORK/big.csv
  (set +o pipefail; base64 -w 100 /dev/urandom | head -c $((SIZE_MB * 1048576)) >"$FILE")
fi
SIZE=$(stat -c %s "$FILE")
SHA1=$(sha1sum "$FILE" | cut -d' ' -f1)
mkdir -p "$WORK/parts"
split -b "$PART" -d -a 5 "$FILE" "$WORK/parts/p"
N=$(ls "$WORK/parts" | wc -l)
UUID=$(cat /proc/sys/kernel/random/uuid)
URL="$API/datasets/$DS/upload/"

send() { # $1 = part index
  local p; p=$(printf '%s/parts/p%05d' "$WORK" "$1")
  curl -sf -X POST "$URL" -H "X-API-KEY: $KEY" -F uuid="$UUID" -F filename=big.csv \
    -F partindex="$1" -F totalparts="$N" -F chunksize="$(stat -c %s "$p")" -F file=@"$p" >/dev/null
}
export -f send; export WORK URL KEY UUID N

t0=$(now)
# Every part but the last in parallel (the last one is placed once the size of the others is known).
seq 0 $((N - 2)) | xargs -P "$JOBS" -I{} bash -c 'send {}'
send $((N - 1))
t1=$(now)
ANSWER=$(curl -sf -X POST "$URL" -H "X-API-KEY: $KEY" -F uuid="$UUID" -F filename=big.csv \
  -F totalparts="$N" -F checksum="sha1:$SHA1")
t2=$(now)
GOT=$(python3 -c 'import sys, json; print(json.load(sys.stdin)["checksum"]["value"])' <<<"$ANSWER")
[ "$GOT" = "$SHA1" ] || { echo "sha1 mismatch: $GOT != $SHA1" >&2; exit 1; }
python3 - "$SIZE" "$N" "$JOBS" "$t0" "$t1" "$t2" <<'PY'
import sys
size, n, jobs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2 = map(float, sys.argv[4:])
print(f"{size / 1048576:.0f} MiB in {n} parts, {jobs} in flight: parts {t1 - t0:.2f} s "
      f"({size / 1048576 / (t1 - t0):.0f} MiB/s), final request {t2 - t1:.2f} s, "
      f"in all {size / 1048576 / (t2 - t0):.0f} MiB/s")
PY
