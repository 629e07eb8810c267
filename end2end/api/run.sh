#!/usr/bin/env bash
# /api/v1 against its own description, on a real server on loopback:
#  1. PyPI openapi-spec-validator checks the served /api/v1/openapi.json.
#  2. An admin makes a read-write API token (as on the account page), and
#     PyPI schemathesis generates requests from the document with it: no
#     answer may be a 5xx, and every answer's status, type and body must be
#     the ones the document describes.
# Run by scripts/test.sh after a build; needs install_alert_senders (scripts/lib.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
profile="${CALMROOM_E2E_PROFILE:-debug}"
port="${CALMROOM_API_PORT:-3119}"
base="http://127.0.0.1:$port"
venv="$root/target/senders-venv"
work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "api: $*" >&2; exit 1; }

CALMROOM_DATA_DIR="$work/data" CALMROOM_BIND="127.0.0.1:$port" CALMROOM_BASE_URL="$base" \
  CALMROOM_ADMIN_EMAIL=ada@example.com CALMROOM_ADMIN_PASSWORD="calm under pressure" \
  CALMROOM_LOG=warn LEPTOS_SITE_ROOT="$root/target/site" \
  "$root/target/$profile/server" &
pid=$!
for _ in $(seq 1 150); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$base/healthz" >/dev/null || fail "the server did not start"

curl -sSf "$base/api/v1/openapi.json" -o "$work/openapi.json"
"$venv/bin/openapi-spec-validator" "$work/openapi.json" || fail "the document is not valid OpenAPI"

jar="$work/cookies"
curl -sSf -X POST -b "$jar" -c "$jar" -H 'content-type: application/x-www-form-urlencoded' \
  --data-urlencode email=ada@example.com --data-urlencode "password=calm under pressure" \
  "$base/api/sign_in" -o /dev/null
token="$(curl -sSf -X POST -b "$jar" -c "$jar" -H 'content-type: application/x-www-form-urlencoded' \
  -d 'name=schemathesis&access=write&days=1' "$base/api/create_api_token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
# Something to read and write from the first example on.
curl -sSf -X POST -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"title":"Checkout fails","severity":"sev2"}' "$base/api/v1/incidents" -o /dev/null

"$venv/bin/schemathesis" --no-color run "$work/openapi.json" --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --phases examples,coverage,fuzzing --max-examples "${CALMROOM_API_EXAMPLES:-40}" \
  --seed 1 --workers 1 --request-timeout 20 \
  || fail "schemathesis found answers that break the document (above)"
# The token only was used: nothing above may have been refused for want of one.
curl -sSf -H "authorization: Bearer $token" "$base/api/v1/me" | grep -q '"can_write": *true' \
  || fail "the token stopped working"
echo "api: the document is valid OpenAPI and the live server keeps to it"
