#!/usr/bin/env bash
# Real alert senders against a real Calmroom server on loopback:
#  1. Prometheus Alertmanager (Debian's), with a webhook receiver and a
#     PagerDuty receiver both pointed at Calmroom, fed by `amtool alert add`:
#     both groups reach the inbox; one is declared as an incident and its war
#     room shows it; the alert is then expired and both groups resolve.
#  2. PyPI's pagerduty client sends trigger, acknowledge and resolve and
#     accepts every answer.
# Run by scripts/test.sh after a build; needs install_alert_senders (scripts/lib.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
profile="${CALMROOM_E2E_PROFILE:-debug}"
port="${CALMROOM_SENDERS_PORT:-3117}"
am_port="${CALMROOM_SENDERS_AM_PORT:-9193}"
base="http://127.0.0.1:$port"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "senders: $*" >&2; exit 1; }

CALMROOM_DATA_DIR="$work/data" CALMROOM_BIND="127.0.0.1:$port" CALMROOM_BASE_URL="$base" \
  CALMROOM_ADMIN_EMAIL=ada@example.com CALMROOM_ADMIN_PASSWORD="calm under pressure" \
  CALMROOM_LOG=warn LEPTOS_SITE_ROOT="$root/target/site" \
  "$root/target/$profile/server" &
pids+=($!)
for _ in $(seq 1 150); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$base/healthz" >/dev/null || fail "the server did not start"

jar="$work/cookies"
api() { curl -sS -X POST -b "$jar" -c "$jar" -H 'content-type: application/x-www-form-urlencoded' "$base/api/$1" "${@:2}"; }
field() { python3 -c "import json,sys; v=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'v': v}))" "$1"; }
api sign_in --data-urlencode email=ada@example.com --data-urlencode "password=calm under pressure" -o /dev/null
integration() {
  api add_integration --data-urlencode "name=$1" -d "kind=$2&critical=sev1&error=sev2&warning=sev3&info=sev4"
}
webhook="$(integration "Alertmanager webhook" alertmanager)"
webhook_id="$(echo "$webhook" | field 'v["id"]')"
webhook_token="$(echo "$webhook" | field 'v["secret"]')"
pd_key="$(integration "Alertmanager PagerDuty" pagerduty | field 'v["secret"]')"

cat >"$work/alertmanager.yml" <<YAML
route:
  receiver: calmroom-webhook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: calmroom-webhook
      continue: true
    - receiver: calmroom-pagerduty
receivers:
  - name: calmroom-webhook
    webhook_configs:
      - url: $base/hooks/alertmanager/$webhook_id
        send_resolved: true
        http_config:
          authorization:
            credentials: $webhook_token
  - name: calmroom-pagerduty
    pagerduty_configs:
      - routing_key: $pd_key
        url: $base/v2/enqueue
        send_resolved: true
YAML
prometheus-alertmanager --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= --log.level=warn &
pids+=($!)
am="http://127.0.0.1:$am_port"
for _ in $(seq 1 100); do curl -sf "$am/-/ready" >/dev/null && break; sleep 0.2; done
curl -sf "$am/-/ready" >/dev/null || fail "Alertmanager did not start"

labels=(alertname=DiskFull severity=critical instance=db-1)
amtool --alertmanager.url="$am" alert add "${labels[@]}" --annotation=summary="Disk full on db-1"

# Waits until `expr` (Python over the inbox answer `v`) holds, for 30 s.
until_inbox() {
  for _ in $(seq 1 150); do
    [ "$(api get_alert_inbox | field "$1")" = True ] && return 0
    sleep 0.2
  done
  fail "the inbox never showed: $2 ($(api get_alert_inbox))"
}
until_inbox 'len(v["groups"]) == 2' "one group from each receiver"
until_inbox 'any(g["summary"] == "Disk full on db-1" and g["severity"] == "Sev1" and g["kind"] == "Alertmanager" for g in v["groups"])' \
  "the webhook's group with its summary and severity"
until_inbox 'any(g["kind"] == "PagerDuty" and "DiskFull" in g["summary"] for g in v["groups"])' \
  "the PagerDuty receiver's group"
echo "senders: Alertmanager's webhook and PagerDuty receivers reached the inbox"

group="$(api get_alert_inbox | field '[g["id"] for g in v["groups"] if g["kind"] == "Alertmanager"][0]')"
api declare_incident -d "severity=sev1&impact=&best_guess=&alert=$group" --data-urlencode "title=Disk full on db-1" -o /dev/null
room() { api get_war_room -d number=1 | field "$1"; }
[ "$(room '[a["state"] for a in v["room"]["alerts"]]')" = "['Firing']" ] || fail "the war room does not show the firing alert"
echo "senders: declared from the alert; the war room shows it firing"

amtool --alertmanager.url="$am" alert add "${labels[@]}" --annotation=summary="Disk full on db-1" \
  --end="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for _ in $(seq 1 150); do
  [ "$(room '[a["state"] for a in v["room"]["alerts"]]')" = "['Resolved']" ] && break
  sleep 0.2
done
[ "$(room '[a["state"] for a in v["room"]["alerts"]]')" = "['Resolved']" ] || fail "the alert never resolved in the war room"
[ "$(room '"resolved" in str(v["room"]["timeline"])')" = True ] || fail "the timeline does not say the alert resolved"
until_inbox 'len(v["groups"]) == 0' "the PagerDuty receiver's group resolved"
echo "senders: expired in Alertmanager; resolved in the war room, its timeline and the inbox"

pd_client_key="$(integration "Python client" pagerduty | field 'v["secret"]')"
dedup="$("$root/target/senders-venv/bin/python" "$root/end2end/senders/pagerduty_client.py" "$base" "$pd_client_key")"
until_inbox 'len(v["groups"]) == 0' "nothing left open by the Python client"
echo "senders: the pagerduty client's trigger, acknowledge and resolve were accepted ($dedup)"
