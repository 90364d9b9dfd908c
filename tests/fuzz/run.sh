#!/usr/bin/env bash
# Fuzzes the running server with schemathesis against its own OpenAPI documents: no answer may be a
# 5xx, and every answer must match the document (status code, content type, body schema).
#
# Builds the debug binary, starts it on a temporary SQLite data dir, makes a sysadmin with an API
# key (CLI), an organization, a dataset and a resource (API), then runs schemathesis on
# /api/1/swagger.json and /api/2/swagger.json with the key, then on /api/1/swagger.json anonymously,
# each run bounded in time, with a fixed seed. Besides the checks above: an operation that needs a key
# refuses a request without one (ignored_auth), and what a POST creates can be read (ensure_resource_
# availability).
# The fuzzer reuses the ids it reads in answers: revoking tokens is left out (it would revoke its
# own key; tests/api covers it). Exits non-zero on any failure. Env: FUZZ_SECONDS_V1 (75),
# FUZZ_SECONDS_V2 (45), FUZZ_SECONDS_ANONYMOUS (45), FUZZ_SEED (42), FUZZ_EXAMPLES (per operation,
# 30), FUZZ_CHECKS and FUZZ_PHASES (schemathesis' --checks and --phases), FUZZ_KEEP_LOG (a file to
# keep the server's log in).
set -euo pipefail
# One worker: with several threads, CPython 3.11 may fail in `ast.parse` (hypothesis describing a
# strategy) with "AST constructor recursion depth mismatch", a failure of the tool, not of rudata.
cd "$(dirname "$0")/../.."

# Seconds of each run: API v1 with the key, API v2 with the key, API v1 anonymous.
SECONDS_V1="${FUZZ_SECONDS_V1:-75}"
SECONDS_V2="${FUZZ_SECONDS_V2:-45}"
SECONDS_ANONYMOUS="${FUZZ_SECONDS_ANONYMOUS:-45}"
SEED="${FUZZ_SEED:-42}"
EXAMPLES="${FUZZ_EXAMPLES:-30}"
CHECKS="${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,ignored_auth,ensure_resource_availability}"
PHASES="${FUZZ_PHASES:-examples,coverage,fuzzing}"

if ! command -v st >/dev/null 2>&1; then
  python3 -m pip install -q schemathesis
fi

cargo build -q
BIN="${CARGO_TARGET_DIR:-target}/debug/rudata"

DATA=$(mktemp -d)
LOG="$DATA/serve.log"
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "${FUZZ_KEEP_LOG:-}" ]; then cp "$LOG" "$FUZZ_KEEP_LOG"; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

export RUDATA_DATA_DIR="$DATA"
"$BIN" migrate >/dev/null
"$BIN" user create --email fuzz@example.org --first-name Fuzz --last-name Er --sysadmin >/dev/null
KEY=$("$BIN" token create --email fuzz@example.org --name fuzz)
ORG=$("$BIN" org create --name "Fuzz org" --admin-email fuzz@example.org)

# Without rate limits: the fuzzer sends requests faster than any client may.
RUDATA_RATE_LIMIT_ANONYMOUS=0 RUDATA_RATE_LIMIT_AUTHENTICATED=0 \
  "$BIN" serve --bind 127.0.0.1:0 >"$LOG" 2>&1 &
SERVER_PID=$!
BASE=
for _ in $(seq 1 100); do
  BASE=$(sed -n 's/^rudata listening on \(http:\/\/[^ ]*\).*/\1/p' "$LOG" | head -1)
  [ -n "$BASE" ] && break
  sleep 0.1
done
if [ -z "$BASE" ]; then echo "fuzz: the server did not start"; cat "$LOG"; exit 1; fi

api() { curl -sf -H "X-API-KEY: $KEY" -H "Content-Type: application/json" "$@"; }
DATASET=$(api -X POST "$BASE/api/1/datasets/" \
  -d "{\"title\": \"Fuzz dataset\", \"description\": \"d\", \"organization\": \"$ORG\", \"tags\": [\"fuzz\"]}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
api -X POST "$BASE/api/1/datasets/$DATASET/resources/" \
  -d '{"title": "Remote", "url": "https://example.org/data.csv", "filetype": "remote", "format": "csv"}' >/dev/null
printf 'a,b\n1,2\n' >"$DATA/data.csv"
curl -sf -H "X-API-KEY: $KEY" -F "file=@$DATA/data.csv" "$BASE/api/1/datasets/$DATASET/upload/" >/dev/null

STATUS=0
# fuzz <document> <seconds> [key]: one schemathesis run, as a client with that key or anonymous.
fuzz() {
  local auth=() who=anonymous
  if [ -n "${3:-}" ]; then auth=(-H "X-API-KEY: $3") who="with the sysadmin's key"; fi
  echo "== schemathesis on $BASE$1 (${2}s, seed $SEED, $who)"
  # From the temporary dir: schemathesis keeps its cache in the working directory.
  (cd "$DATA" && st run "$BASE$1" \
    --url "$BASE" \
    "${auth[@]}" \
    --checks "$CHECKS" \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --max-time "$2" \
    --request-timeout 10 \
    --workers 1 \
    --max-redirects 0 \
    --phases "$PHASES" \
    --warnings off \
    --exclude-operation-id revoke_api_token) \
    || STATUS=1
}
fuzz /api/1/swagger.json "$SECONDS_V1" "$KEY"
fuzz /api/2/swagger.json "$SECONDS_V2" "$KEY"
fuzz /api/1/swagger.json "$SECONDS_ANONYMOUS"
if grep -q '"level":"ERROR"\|ERROR' "$LOG"; then
  echo "fuzz: the server logged errors:"; grep 'ERROR' "$LOG" | head -20
  STATUS=1
fi
exit $STATUS
