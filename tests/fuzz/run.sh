#!/usr/bin/env bash
# Fuzzes the running server with schemathesis against its own OpenAPI documents: no answer may be a
# 5xx, and every answer must match the document (status code, content type, body schema).
#
# Builds the debug binary, starts it on a temporary SQLite data dir, makes a sysadmin with an API
# key (CLI), an organization, a dataset and a resource (API), then runs schemathesis on
# /api/1/swagger.json and /api/2/swagger.json, each bounded in time, with a fixed seed.
# The fuzzer reuses the ids it reads in answers: revoking tokens is left out (it would revoke its
# own key; tests/api covers it). Exits non-zero on any failure. Env: FUZZ_SECONDS (per document, default 75), FUZZ_SEED (42),
# FUZZ_EXAMPLES (per operation, default 30).
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_PER_DOC="${FUZZ_SECONDS:-75}"
SEED="${FUZZ_SEED:-42}"
EXAMPLES="${FUZZ_EXAMPLES:-30}"

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
for VERSION in 1 2; do
  echo "== schemathesis on $BASE/api/$VERSION/swagger.json (${SECONDS_PER_DOC}s, seed $SEED)"
  st run "$BASE/api/$VERSION/swagger.json" \
    --url "$BASE" \
    -H "X-API-KEY: $KEY" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --max-time "$SECONDS_PER_DOC" \
    --request-timeout 10 \
    --workers 2 \
    --max-redirects 0 \
    --phases examples,coverage,fuzzing \
    --warnings off \
    --exclude-operation-id revoke_api_token \
    || STATUS=1
done
if grep -q '"level":"ERROR"\|ERROR' "$LOG"; then
  echo "fuzz: the server logged errors:"; grep 'ERROR' "$LOG" | head -20
  STATUS=1
fi
exit $STATUS
