#!/usr/bin/env bash
# Alerts-in benchmark (prints figures, asserts nothing): PagerDuty events per
# second accepted when 99 % of them repeat an open group, beside /healthz in
# the same run, then server RSS after 100,000 events. On SQLite, and on
# PostgreSQL when CALMROOM_TEST_POSTGRES_URL (or the local server) is there.
# Builds the release app; installs wrk when missing. Not part of the test command.
source "$(dirname "$0")/lib.sh"
cd "$CALMROOM_ROOT"
install_build_tools
command -v wrk >/dev/null || apt_install wrk
ulimit -n 65536 2>/dev/null || true
if [ -z "${CALMROOM_BENCH_NO_BUILD:-}" ]; then
  say "building the release app"
  build_release
fi
port=3340
base="http://127.0.0.1:$port"
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/events.lua" <<'LUA'
-- About one event in 100 asks for a new group; the rest repeat an open one
-- (the share that really opened groups is printed from the inbox).
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local key = (n % 100 == 0) and ("new-" .. n .. "-" .. math.random(1e9)) or "storm"
  local body = '{"routing_key":"' .. os.getenv("ROUTING_KEY") .. '","event_action":"trigger","dedup_key":"' .. key ..
    '","payload":{"summary":"Checkout p99 above 2 s","source":"checkout-api","severity":"critical"}}'
  return wrk.format(nil, "/v2/enqueue", nil, body)
end
LUA

rss_mb() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
rate() { awk '/Requests\/sec/ { print $2 }'; }
count() { awk '/requests in/ { print $1 }'; }

run() {
  local name="$1" database_url="$2"
  CALMROOM_DATA_DIR="$work/$name" CALMROOM_BIND="127.0.0.1:$port" CALMROOM_DATABASE_URL="$database_url" \
    CALMROOM_ADMIN_EMAIL=bench@example.com CALMROOM_ADMIN_PASSWORD="bench password 123" \
    CALMROOM_ALERT_EVENTS_PER_SECOND=100000 CALMROOM_LOG=warn LEPTOS_SITE_ROOT=target/site \
    target/release/server &
  server_pid=$!
  for _ in $(seq 1 150); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
  local jar="$work/$name.jar"
  curl -sf -X POST -c "$jar" --data-urlencode email=bench@example.com \
    --data-urlencode "password=bench password 123" "$base/api/sign_in" >/dev/null
  local key
  key="$(curl -sf -X POST -b "$jar" -d "name=Bench&kind=pagerduty&critical=sev1&error=sev2&warning=sev3&info=sev4" \
    "$base/api/add_integration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
  local start_rss health events sent total=0
  start_rss="$(rss_mb "$server_pid")"
  health="$(wrk -t2 -c16 -d10s "$base/healthz" | rate)"
  local out
  out="$(ROUTING_KEY="$key" wrk -t2 -c16 -d10s -s "$work/events.lua" "$base")"
  events="$(echo "$out" | rate)"
  sent="$(echo "$out" | count)"
  total=$((total + sent))
  while [ "$total" -lt 100000 ]; do
    sent="$(ROUTING_KEY="$key" wrk -t2 -c16 -d5s -s "$work/events.lua" "$base" | count)"
    total=$((total + sent))
  done
  sleep 2
  local groups
  groups="$(curl -sf -X POST -b "$jar" "$base/api/get_alert_inbox" | python3 -c 'import json,sys; g=json.load(sys.stdin)["groups"]; print(len(g), sum(x["events"] for x in g))')"
  echo "$name: /healthz $health req/s; events with 99 % duplicates $events/s (ratio to /healthz $(python3 -c "print(round($events / $health, 3))"))"
  echo "$name: RSS at start $start_rss MB, after $total events $(rss_mb "$server_pid") MB"
  echo "$name: inbox after the run: open groups, events they counted = $groups (at most 200 groups are listed)"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

say "alerts in: SQLite"
run sqlite "sqlite://$work/sqlite.db"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg="${CALMROOM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  db="calmroom_bench_alerts_$$"
  psql "$pg" -qc "CREATE DATABASE $db"
  say "alerts in: PostgreSQL"
  run postgres "${pg%/*}/$db"
  psql "$pg" -qc "DROP DATABASE $db WITH (FORCE)"
fi
