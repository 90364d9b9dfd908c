#!/usr/bin/env bash
# Large files: upload and download throughput against a plain `cp` of the same file on the same disk,
# and the server's memory. Then upload throughput to local disk vs to an S3-compatible server (moto).
# Uploads are sent by bench/reference/upload.rs (`upload-client`: sendfile, one kept-alive connection
# per sender), so that the client's own copies do not weigh on the 2 cores the server runs on; the
# single upload is also measured with curl, as before.
# Usage: bench/files.sh     (env: SIZE_MB=1024 PART=20000000 S3_SIZE_MB=256; S3=0 skips the S3 part)
set -euo pipefail
cd "$(dirname "$0")/.."
# A load generator is one client far past any rate limit: none while measuring.
export RUDATA_RATE_LIMIT_ANONYMOUS=0 RUDATA_RATE_LIMIT_AUTHENTICATED=0
SIZE_MB=${SIZE_MB:-1024}
PART=${PART:-20000000}
S3_SIZE_MB=${S3_SIZE_MB:-256}
S3=${S3:-1}
cargo build --release -q -p rudata -p reference
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/rudata
CLIENT=${CARGO_TARGET_DIR:-$PWD/target}/release/upload-client
WORK=$(mktemp -d -p "${BENCH_DIR:-$PWD}" bench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

now() { date +%s.%N; }
mbps() { python3 -c "print(f'{$1 / 1048576 / ($3 - $2):.0f}')"; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
RUNS=${RUNS:-3}
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
# The server's memory growth during one operation: its peak (VmHWM, reset through clear_refs) above
# its resident size when the operation starts, in MiB, the largest of the runs.
GROWTH=0
mem_start() { echo 5 >"/proc/$SERVER_PID/clear_refs"; BASE=$(rss_kib "$SERVER_PID" VmRSS); }
mem_end() { local g=$((($(rss_kib "$SERVER_PID" VmHWM) - BASE) / 1024)); [ "$g" -gt "$GROWTH" ] && GROWTH=$g; true; }

start() { # $1 = dir, then extra env as NAME=VALUE
  local dir=$1; shift
  mkdir -p "$dir"
  env RUST_LOG=warn "$@" "$BIN" --data-dir "$dir" serve --bind 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 100); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  API=$(sed -n 's/^rudata listening on //p' "$dir/out")/api/1
  KEY=$(grep -o 'udata_[A-Za-z0-9_-]*' "$dir/out")
  DS=$(curl -sf -X POST "$API/datasets/" -H "X-API-KEY: $KEY" -H 'Content-Type: application/json' \
    -d '{"title": "Bench", "description": "bench"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
}

upload() { # $1 = file; prints the resource url
  curl -sf -X POST "$API/datasets/$DS/upload/" -H "X-API-KEY: $KEY" -F "file=@$1" |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["url"])'
}

SRC=$WORK/data.csv
dd if=/dev/urandom of="$SRC" bs=1M count="$SIZE_MB" status=none
BYTES=$(stat -c %s "$SRC")
echo "file: $SIZE_MB MiB in $WORK ($(df -h "$WORK" | awk 'NR==2 {print $1}')), parts of $PART bytes"

# Every timing starts after `sync`, so that one step's writeback does not slow the next; none waits
# for its own data to reach the disk (cp does not, and neither does the server), and each is the
# median of $RUNS runs.
runs=()
for _ in $(seq "$RUNS"); do
  sync; t0=$(now); cp "$SRC" "$WORK/copy.csv"; t1=$(now); rm "$WORK/copy.csv"
  runs+=("$(mbps "$BYTES" "$t0" "$t1")")
done
CP=$(median "${runs[@]}")
# The durable baseline: the same copy, then its data and the directory flushed to the disk
# (`sync FILE DIR`: fsync of both), as the server does before it records an upload (DESIGN §5).
runs=()
for _ in $(seq "$RUNS"); do
  sync; t0=$(now); cp "$SRC" "$WORK/copy.csv"; sync "$WORK/copy.csv" "$WORK"; t1=$(now)
  rm "$WORK/copy.csv"
  runs+=("$(mbps "$BYTES" "$t0" "$t1")")
done
CP_SYNC=$(median "${runs[@]}")

# The ceiling for any server: the same uploads to a sink that only counts the bytes.
SINK_PORT=9378
python3 - "$SINK_PORT" "$BYTES" <<'PY' &
import socket, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", port)); s.listen(8)
while True:
    c, _ = s.accept()
    buf = memoryview(bytearray(1 << 20)); n = 0
    while n < size:
        k = c.recv_into(buf)
        if not k: break
        n += k
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); c.close()
PY
PIDS+=($!)
sleep 0.5
runs=()
for _ in $(seq "$RUNS"); do
  sync; t0=$(now); curl -sf -o /dev/null -H "Expect:" -X POST "http://127.0.0.1:$SINK_PORT/" -F "file=@$SRC"; t1=$(now)
  runs+=("$(mbps "$BYTES" "$t0" "$t1")")
done
SINK=$(median "${runs[@]}")
runs=()
for _ in $(seq "$RUNS"); do
  sync; t0=$(now); "$CLIENT" single "http://127.0.0.1:$SINK_PORT/" none "$SRC" >/dev/null 2>&1 || true; t1=$(now)
  runs+=("$(mbps "$BYTES" "$t0" "$t1")")
done
SINK_CLIENT=$(median "${runs[@]}")

start "$WORK/local"
curl -sf -o /dev/null "$API/datasets/"
RSS0=$(rss_kib "$SERVER_PID" VmRSS)

# The four uploads take turns, run after run (a cloud disk slows down as it writes: run one after
# the other, the last would be measured on a slower disk than the first). Chunked: parts of $PART
# bytes, one sender (sequential) or 4 (4 parts in flight), each run a new upload ended by its final
# request.
UPLOAD_URL=$API/datasets/$DS/upload/
MODES=(curl single sequential parallel)
# The server's CPU time (user + system, seconds) during each upload, from /proc/PID/stat.
cpu_s() { awk '{print ($14 + $15) / 100}' "/proc/$SERVER_PID/stat"; }
declare -A RATES GROWTHS CPUS
for run in $(seq "$RUNS"); do
  for mode in "${MODES[@]}"; do
    sync; GROWTH=${GROWTHS[$mode]:-0}; mem_start; c0=$(cpu_s); t0=$(now)
    case $mode in
      curl) URL=$(upload "$SRC") ;;
      single) "$CLIENT" single "$UPLOAD_URL" "$KEY" "$SRC" >/dev/null 2>"$WORK/client.err" || { cat "$WORK/client.err"; exit 1; } ;;
      sequential) "$CLIENT" chunked "$UPLOAD_URL" "$KEY" "$SRC" "$PART" 1 "bench-1-$run" >/dev/null 2>"$WORK/client.err" || { cat "$WORK/client.err"; exit 1; } ;;
      parallel) "$CLIENT" chunked "$UPLOAD_URL" "$KEY" "$SRC" "$PART" 4 "bench-4-$run" >/dev/null 2>"$WORK/client.err" || { cat "$WORK/client.err"; exit 1; } ;;
    esac
    t1=$(now); mem_end; GROWTHS[$mode]=$GROWTH
    RATES[$mode]="${RATES[$mode]:-} $(mbps "$BYTES" "$t0" "$t1")"
    CPUS[$mode]="${CPUS[$mode]:-} $(python3 -c "print(f'{$(cpu_s) - $c0:.2f}')")"
  done
done
GROWTH=0
# shellcheck disable=SC2086
{
  SINGLE_CURL=$(median ${RATES[curl]}); SINGLE_CURL_MEM=${GROWTHS[curl]}
  SINGLE=$(median ${RATES[single]}); SINGLE_MEM=${GROWTHS[single]}
  CHUNKED=$(median ${RATES[sequential]}); CHUNKED_MEM=${GROWTHS[sequential]}
  PARALLEL=$(median ${RATES[parallel]}); PARALLEL_MEM=${GROWTHS[parallel]}
}
echo "runs (MB/s): curl${RATES[curl]}; single${RATES[single]}; sequential${RATES[sequential]}; 4 in flight${RATES[parallel]}"
echo "server CPU (s): curl${CPUS[curl]}; single${CPUS[single]}; sequential${CPUS[sequential]}; 4 in flight${CPUS[parallel]}"
N=$(( (BYTES + PART - 1) / PART ))

runs=()
for _ in $(seq "$RUNS"); do
  sync; mem_start; t0=$(now); curl -sf -o /dev/null "$URL"; t1=$(now); mem_end
  runs+=("$(mbps "$BYTES" "$t0" "$t1")")
done
DOWN=$(median "${runs[@]}"); DOWN_MEM=$GROWTH; GROWTH=0
ratio() { python3 -c "print(f'{$1 / $CP:.2f}')"; }
durable() { python3 -c "print(f'{$1 / $CP_SYNC:.2f}')"; }

echo
echo "| operation ($SIZE_MB MiB, median of $RUNS) | MB/s | × cp | × cp + sync | server memory growth (MiB, max of runs) |"
echo "|---|---|---|---|---|"
echo "| cp (baseline, into the page cache) | $CP | 1.00 | | |"
echo "| cp, then the copy synced to the disk (durable baseline) | $CP_SYNC | $(ratio "$CP_SYNC") | 1.00 | |"
echo "| curl upload to a byte-counting sink (no server work) | $SINK | $(ratio "$SINK") | | |"
echo "| upload-client to the same sink (no server work: the ceiling) | $SINK_CLIENT | $(ratio "$SINK_CLIENT") | | |"
echo "| single upload, curl | $SINGLE_CURL | $(ratio "$SINGLE_CURL") | $(durable "$SINGLE_CURL") | $SINGLE_CURL_MEM |"
echo "| single upload, upload-client | $SINGLE | $(ratio "$SINGLE") | $(durable "$SINGLE") | $SINGLE_MEM |"
echo "| chunked upload ($N parts of $PART bytes + final), sequential | $CHUNKED | $(ratio "$CHUNKED") | $(durable "$CHUNKED") | $CHUNKED_MEM |"
echo "| chunked upload, 4 parts in flight | $PARALLEL | $(ratio "$PARALLEL") | $(durable "$PARALLEL") | $PARALLEL_MEM |"
echo
echo "chunked / single (upload-client): sequential $(python3 -c "print(f'{$CHUNKED / $SINGLE:.2f}')"), 4 in flight $(python3 -c "print(f'{$PARALLEL / $SINGLE:.2f}')")"
echo "| download (GET of the file) | $DOWN | $(ratio "$DOWN") | | $DOWN_MEM |"
echo
echo "server RSS: $((RSS0 / 1024)) MiB after start"
kill "$SERVER_PID"

[ "$S3" = 1 ] || exit 0
# Upload throughput: local disk vs an S3-compatible server on loopback (moto keeps objects in memory).
S3_PORT=9377
python3 -m moto.server -H 127.0.0.1 -p "$S3_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.5; done
curl -sf -X PUT "http://127.0.0.1:$S3_PORT/bench" >/dev/null
head -c $((S3_SIZE_MB * 1048576)) "$SRC" >"$WORK/s3.csv"
SB=$(stat -c %s "$WORK/s3.csv")
start "$WORK/local2"
t0=$(now); upload "$WORK/s3.csv" >/dev/null; t1=$(now)
LOCAL=$(mbps "$SB" "$t0" "$t1")
kill "$SERVER_PID"
start "$WORK/s3" RUDATA_STORAGE=s3 RUDATA_S3_BUCKET=bench RUDATA_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" \
  RUDATA_S3_ACCESS_KEY_ID=bench RUDATA_S3_SECRET_ACCESS_KEY=bench
RSS0=$(rss_kib "$SERVER_PID" VmRSS)
t0=$(now); upload "$WORK/s3.csv" >/dev/null; t1=$(now)
S3UP=$(mbps "$SB" "$t0" "$t1")
HWM=$(rss_kib "$SERVER_PID" VmHWM)
echo
echo "| upload of $S3_SIZE_MB MiB | MB/s |"
echo "|---|---|"
echo "| to local disk | $LOCAL |"
echo "| to S3 (moto on loopback) | $S3UP |"
echo
echo "server RSS with S3 storage: $((RSS0 / 1024)) MiB after start, peak $((HWM / 1024)) MiB"
