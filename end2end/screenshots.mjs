// Screenshots of the communication, postmortem, leadership and account pages at laptop and phone widths, for a
// look before calling a change done. Not a test. Start a fresh server first, e.g.
//   CALMROOM_DATA_DIR=$(mktemp -d) CALMROOM_BIND=127.0.0.1:3112 \
//   CALMROOM_ADMIN_EMAIL=ada@example.com CALMROOM_ADMIN_PASSWORD="calm under pressure" \
//   LEPTOS_SITE_ROOT=target/site target/debug/server
// then: node end2end/screenshots.mjs http://127.0.0.1:3112 <folder for the PNGs> [page names, comma-separated]
import { chromium, request as pwRequest } from "playwright-core";
const base = process.argv[2];
const out = process.argv[3];
const only = process.argv[4] ? process.argv[4].split(",") : null;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
async function api(ctx, fn, form) { const r = await ctx.request.post(`${base}/api/${fn}`, { form }); return r; }
async function json(ctx, fn, data) { return ctx.request.post(`${base}/api/${fn}`, { data }); }
const adminCtx = await browser.newContext();
await api(adminCtx, "sign_in", { email: "ada@example.com", password: "calm under pressure" });
const cal = await (await api(adminCtx, "create_user", { name: "Cal Comms", email: "cal@example.com", org_role: "responder" })).json();
const vic = await (await api(adminCtx, "create_user", { name: "Vic Viewer", email: "vic@example.com", org_role: "viewer" })).json();
for (const [name, group] of [["API", "Core"], ["Payments", "Core"], ["Dashboard", "Apps"], ["Mobile app", "Apps"]]) await api(adminCtx, "add_component", { name, group_name: group, description: "" });
await adminCtx.request.post(`${base}/api/declare_incident`, { form: { title: "pg-primary-2 disk full", severity: "sev2", impact: "Card payments fail for about 20% of checkouts", best_guess: "WAL volume filled" }, maxRedirects: 0 });
await api(adminCtx, "assign_role", { number: "1", role: "comms_lead", user_id: String(cal.user.id) });
await api(adminCtx, "add_hypothesis", { number: "1", statement: "WAL archiving stalled after the backup job", owner_id: String(cal.user.id) });
await api(adminCtx, "schedule_maintenance", { title: "Database upgrade", description: "Short read-only periods are possible.", starts_at: "2026-12-01T22:00", ends_at: "2026-12-01T23:30", "components[c1]": "1" });
await api(adminCtx, "add_webhook", { name: "Ops channel", kind: "slack", url: "https://hooks.example.com/services/T0/B0/x" });
await api(adminCtx, "add_webhook", { name: "Payments team (Teams)", kind: "teams", url: "https://example.webhook.office.com/workflows/x", "components[c2]": "2" });
const calCtx = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: "Asia/Kathmandu" });
await api(calCtx, "sign_in", { email: "cal@example.com", password: cal.initial_password });
await json(calCtx, "publish_update", { number: 1, kind: "initial_internal", values: { severity: "Sev2", impact: "Card payments fail for about 20% of checkouts", status: "Investigating", known: "WAL volume on pg-primary-2 is full", next_steps: "Free space, then fail over if needed" }, confirm: false });
await json(calCtx, "publish_update", { number: 1, kind: "customer", values: { issue: "Card payments failing", impact: "Some card payments fail at checkout.", mitigation: "We have found the cause and are restoring service.", workaround: "Retrying the payment usually works." }, confirm: false });
await api(calCtx, "set_affected_component", { number: "1", component_id: "2", status: "partial_outage" });
const vicCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
await api(vicCtx, "sign_in", { email: "vic@example.com", password: vic.initial_password });
await api(vicCtx, "ask_question", { number: "1", question: "Are refunds affected too?" });
async function shot(ctx, path, name) {
  if (only && !only.includes(name)) return;
  for (const [w, h, tag] of [[1440, 900, "laptop"], [390, 844, "phone"]]) {
    const page = await ctx.newPage();
    await page.setViewportSize({ width: w, height: h });
    await page.goto(base + path);
    await page.waitForTimeout(1500);
    if (name === "comms") { await page.getByLabel("Customer-facing update").check(); await page.getByLabel("Issue").fill("Card payments failing"); await page.getByLabel("Impact", { exact: true }).fill("Payments fail on pg-primary-2."); await page.getByLabel("What we are doing").fill("Fixed by 14:30."); await page.getByRole("button", { name: "Publish", exact: true }).click(); await page.waitForTimeout(1200); }
    await page.screenshot({ path: `${out}/${name}-${tag}.png`, fullPage: tag === "phone" });
    await page.close();
  }
}
await shot(calCtx, "/incidents/1/comms", "comms");
// A long incident: the timeline and the decision log show their newest 100.
for (let i = 0; i < 110; i++) await api(calCtx, "add_timeline_note", { number: "1", body: `Checked replica lag: ${i % 7} s` });
const calMe = await (await api(calCtx, "auth_state", {})).json();
for (const d of ["Pause the nightly backup job", "Raise the WAL volume to 200 GB"]) await api(calCtx, "log_decision", { number: "1", decision: d, reason: "Buys time while archiving catches up", owner_id: String(calMe.user.id) });
// Alerts in: two senders, an alert attached to incident 1, a deploy as a
// recent change, and a few groups waiting in the inbox.
const sevs = { critical: "sev1", error: "sev2", warning: "sev3", info: "sev4" };
const pd = await (await api(adminCtx, "add_integration", { name: "Uptime probes", kind: "pagerduty", ...sevs })).json();
const am = await (await api(adminCtx, "add_integration", { name: "Prometheus production", kind: "alertmanager", ...sevs })).json();
const enqueue = (data) => adminCtx.request.post(`${base}/v2/enqueue`, { data: { routing_key: pd.secret, ...data } });
await enqueue({ event_action: "trigger", dedup_key: "pg-disk", payload: { summary: "pg-primary-2 WAL volume 97% full", source: "pg-primary-2", severity: "critical", component: "postgres" } });
const firstGroup = (await (await api(adminCtx, "get_alert_inbox", {})).json()).groups[0].id;
await api(adminCtx, "attach_alert", { group: String(firstGroup), number: "1" });
await adminCtx.request.post(`${base}/v2/change/enqueue`, { data: { routing_key: pd.secret, payload: { summary: "Deployed backup-agent v4.2 (new credentials)", source: "ci" }, links: [{ href: "https://ci.example.com/runs/4312" }] } });
await enqueue({ event_action: "trigger", dedup_key: "checkout-p99", payload: { summary: "Checkout p99 latency above 2 s", source: "checkout-api", severity: "error", custom_details: { p99_ms: 2450, region: "eu-west-1" } } });
await enqueue({ event_action: "trigger", dedup_key: "login-errors", payload: { summary: "Login error rate 4%", source: "auth", severity: "warning" } });
const amAlert = (fp) => ({ status: "firing", labels: { alertname: "HighMemory", instance: fp, severity: "warning" }, annotations: { summary: `Memory above 90% on ${fp}` }, startsAt: new Date(Date.now() - 25 * 60_000).toISOString(), endsAt: "0001-01-01T00:00:00Z", fingerprint: fp });
await adminCtx.request.post(`${base}/hooks/alertmanager/${am.id}`, {
  headers: { authorization: `Bearer ${am.secret}` },
  data: { version: "4", groupKey: "{}:{alertname=\"HighMemory\"}", status: "firing", receiver: "calmroom", groupLabels: { alertname: "HighMemory" }, commonLabels: { alertname: "HighMemory", severity: "warning", job: "node" }, commonAnnotations: { summary: "Memory above 90% on 3 workers" }, externalURL: "http://alertmanager:9093", alerts: ["worker-1", "worker-2", "worker-3"].map(amAlert) },
});
await shot(adminCtx, "/alerts", "alerts");
await shot(adminCtx, "/admin/integrations", "admin-integrations");
await shot(calCtx, "/incidents/1", "war-room");
// Cal reads times in Kolkata; the account page with a browser in Kathmandu offers its zone.
await shot(calCtx, "/account", "account-zone");
await api(calCtx, "set_time_zone", { zone: "Asia/Kolkata" });
await shot(calCtx, "/incidents/1", "war-room-zoned");
await shot(calCtx, "/account", "account-zone-saved");
await shot(vicCtx, "/incidents/1", "channel");
await shot(adminCtx, "/admin/status", "admin-status");
await shot(adminCtx, "/admin/templates", "admin-templates");
// A resolved incident with a postmortem under way.
const me = await (await api(adminCtx, "auth_state", {})).json();
await api(adminCtx, "log_decision", { number: "1", decision: "Fail over to pg-primary-3", reason: "Freeing space would take longer than the failover", owner_id: String(me.user.id) });
const room = await (await api(adminCtx, "get_war_room", { number: "1" })).json();
await api(adminCtx, "change_status", { number: "1", version: String(room.room.version), status: "resolved", severity: "sev2" });
await shot(adminCtx, "/incidents/1", "war-room-resolved");
await shot(calCtx, "/incidents/1/comms", "comms-resolution");
await api(adminCtx, "start_postmortem", { number: "1" });
const pm = await (await api(adminCtx, "get_postmortem", { number: "1" })).json();
await json(adminCtx, "save_postmortem", { number: 1, version: pm.Document.version, fields: { summary: "For 47 minutes about a fifth of card payments failed because the primary database ran out of disk for its **write-ahead log**.", customer_impact: "Customers saw *payment failed* at checkout; most retried successfully.", users_affected: "about 3,800", failed_requests: "12,450", slo_budget_spent: "38 % of December", root_causes: "- WAL archiving stalled after the nightly backup job changed its credentials.\n- No alert on WAL volume growth.", went_well: "The failover runbook worked first time." } });
await api(adminCtx, "add_action_item", { number: "1", title: "Alert when WAL volume passes 70 %", kind: "detection", owner: String(cal.user.id), due: "2026-12-10", verification: "The alert fires in a staging fill test", top: "on" });
await api(adminCtx, "add_action_item", { number: "1", title: "Rotate backup credentials through the secrets manager", kind: "prevention", owner: String(me.user.id), due: "2026-11-20", verification: "Archiving survives a rotation in staging" });
const anon = await browser.newContext();
await shot(adminCtx, "/incidents/1/postmortem", "postmortem");
await shot(adminCtx, "/incidents/1/postmortem/review", "review");
await shot(adminCtx, "/action-items", "action-items");
await shot(adminCtx, "/insights", "insights");
await shot(adminCtx, "/", "dashboard");
await shot(anon, "/status", "public");
await shot(anon, "/status?tz=Asia%2FKolkata", "public-zoned");
await shot(anon, "/status/zone", "public-zone-picker");
// E-mail subscription screens, when the server sends mail to an aiosmtpd
// Maildir named by MAILDIR (python -m aiosmtpd -n -l 127.0.0.1:2599 -c aiosmtpd.handlers.Mailbox DIR).
if (process.env.MAILDIR && (!only || only.includes("subscription"))) {
  const fs = await import("node:fs");
  for (const [w, h, tag] of [[1440, 900, "laptop"], [390, 844, "phone"]]) {
    const page = await (await browser.newContext({ viewport: { width: w, height: h } })).newPage();
    const reader = `reader-${tag}@example.com`;
    await page.goto(`${base}/status`);
    await page.getByLabel("E-mail address").fill(reader);
    await page.getByLabel("Payments").check();
    await page.getByRole("button", { name: "Subscribe" }).click();
    await page.screenshot({ path: `${out}/subscribe-sent-${tag}.png`, fullPage: true });
    let link = null;
    for (let i = 0; i < 100 && !link; i++) {
      await page.waitForTimeout(200);
      const dir = `${process.env.MAILDIR}/new`;
      const mails = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => fs.readFileSync(`${dir}/${f}`, "utf8")).filter((t) => t.includes(`To: ${reader}`)) : [];
      const text = (mails.pop() ?? "").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      link = text.match(/\/status\/subscription\/confirm\?token=[0-9a-f]{64}/)?.[0] ?? null;
    }
    await page.goto(base + link);
    await page.screenshot({ path: `${out}/subscribe-confirm-${tag}.png`, fullPage: true });
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByRole("link", { name: "Choose what you follow" }).click();
    await page.screenshot({ path: `${out}/subscription-${tag}.png`, fullPage: true });
  }
}
// The leadership layer: a second incident with a Tech Lead asking for authorisation,
// a blocker, an observer, and a leader who is a viewer by org role.
const tia = await (await api(adminCtx, "create_user", { name: "Tia Tech", email: "tia@example.com", org_role: "responder" })).json();
const obi = await (await api(adminCtx, "create_user", { name: "Obi Observer", email: "obi@example.com", org_role: "responder" })).json();
const lee = await (await api(adminCtx, "create_user", { name: "Lee Leader", email: "lee@example.com", org_role: "viewer" })).json();
await api(adminCtx, "set_can_lead", { user_id: String(lee.user.id), can_lead: "true" });
await adminCtx.request.post(`${base}/api/declare_incident`, { form: { title: "Primary region drops half the requests", severity: "sev1", impact: "EU and US customers see errors on every second request", best_guess: "Load balancer pool in eu-west-1 is unhealthy" }, maxRedirects: 0 });
await api(adminCtx, "assign_role", { number: "2", role: "tech_lead", user_id: String(tia.user.id) });
await api(adminCtx, "add_responder", { number: "2", user_id: String(cal.user.id) });
const tiaCtx = await browser.newContext();
await api(tiaCtx, "sign_in", { email: "tia@example.com", password: tia.initial_password });
await api(tiaCtx, "request_approval", { number: "2", mitigation: "Shift traffic to the secondary region", reason: "The primary pool keeps failing health checks; the secondary has headroom for 70 % of peak." });
await api(tiaCtx, "raise_blocker", { number: "2", description: "Need write access to the DNS provider account" });
await api(tiaCtx, "raise_blocker", { number: "2", description: "Vendor escalation: load balancer support ticket" });
const leeCtx = await browser.newContext();
await api(leeCtx, "sign_in", { email: "lee@example.com", password: lee.initial_password });
await api(leeCtx, "take_blocker", { number: "2", blocker_id: "2" });
const obiCtx = await browser.newContext();
await api(obiCtx, "sign_in", { email: "obi@example.com", password: obi.initial_password });
await shot(tiaCtx, "/incidents/2", "war-room-lead");
await shot(obiCtx, "/incidents/2", "war-room-observer");
await shot(leeCtx, "/leadership", "leadership");
await shot(leeCtx, "/", "leader-dashboard");
await shot(adminCtx, "/leadership", "leadership-admin");
await shot(adminCtx, "/admin/users", "admin-users");
await shot(adminCtx, "/account", "account");
const reset = await (await api(adminCtx, "reset_password", { user_id: String(obi.user.id) })).json();
const forcedCtx = await browser.newContext();
await api(forcedCtx, "sign_in", { email: "obi@example.com", password: reset });
await shot(forcedCtx, "/", "forced-password");
await browser.close();
