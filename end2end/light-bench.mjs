// The light-client benchmark: prints figures, asserts nothing. Run by
// scripts/bench-light.sh, which builds the release app and starts nginx;
// by hand: node end2end/light-bench.mjs <nginx base URL> <folder nginx serves>
//
// 1. cold start of the release server to its first /healthz (fresh SQLite,
//    migrations, admin from the environment), beside nginx's cold start;
// 2. server RSS right after start, right after 100 sign-ins (4 at a time) and
//    idle again 20 s later;
// 3. the bundle each page loads, raw / gzip / brotli, as the server sends it;
// 4. the war room on a slow phone (10 Mbit/s, 40 ms RTT, CPU slowed 4x through
//    Chromium's emulation): navigation to content visible and to hydrated,
//    with an empty cache and again with a warm one;
// 5. the public routes and the wasm under wrk, asked as Chromium asks
//    (brotli), beside nginx serving the very same bytes;
// 6. with CALMROOM_BENCH_BASELINE=<a folder holding `server` and `site/` of
//    another build>: that build served beside this one, and the war room of
//    each loaded as in 4, alternately, so a change to the client is measured
//    against the build before it in the same minutes of the same machine.
//
// CALMROOM_BENCH_SERVER and CALMROOM_BENCH_SITE name the build measured
// (default: target/release/server and target/site).
import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const [nginxBase, nginxRoot] = process.argv.slice(2);
// CALMROOM_BENCH_PARTS=2,4 runs only those parts (the server is always started).
const parts = (process.env.CALMROOM_BENCH_PARTS ?? "1,2,3,4,5,6").split(",").map(Number);
const part = (n) => parts.includes(n);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const binary = process.env.CALMROOM_BENCH_SERVER ?? path.join(root, "target/release/server");
const site = process.env.CALMROOM_BENCH_SITE ?? "target/site";
const admin = { email: "bench@example.com", password: "bench password 123" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

function startServer(port, dataDir, build = { binary, site }) {
  return spawn(build.binary, [], {
    cwd: root,
    env: {
      ...process.env,
      CALMROOM_DATA_DIR: dataDir,
      CALMROOM_BIND: `127.0.0.1:${port}`,
      CALMROOM_ADMIN_EMAIL: admin.email,
      CALMROOM_ADMIN_PASSWORD: admin.password,
      CALMROOM_LOG: "warn",
      LEPTOS_SITE_ROOT: build.site,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

async function untilAnswers(url, deadlineMs = 30_000) {
  const start = performance.now();
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return performance.now() - start;
    } catch {}
    if (performance.now() - start > deadlineMs) throw new Error(`${url} did not answer`);
    await sleep(2);
  }
}

function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kbs = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return kbs / 1024;
}

const stop = async (child) => {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
};

// 1. Cold start, five times each.
if (part(1)) {
const coldStarts = [];
for (let i = 0; i < 5; i++) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "calmroom-bench-"));
  const port = 3300 + i;
  const started = performance.now();
  const child = startServer(port, data);
  await untilAnswers(`http://127.0.0.1:${port}/healthz`);
  coldStarts.push(performance.now() - started);
  await stop(child);
  fs.rmSync(data, { recursive: true, force: true });
}
const nginxStarts = [];
for (let i = 0; i < 5; i++) {
  const conf = path.join(nginxRoot, `cold-${i}.conf`);
  const port = 3320 + i;
  fs.writeFileSync(
    conf,
    `pid ${nginxRoot}/cold-${i}.pid; error_log stderr crit; events {} http { access_log off; server { listen 127.0.0.1:${port}; location / { return 200 "ok"; } } }\n`,
  );
  const started = performance.now();
  const child = spawn("nginx", ["-c", conf, "-p", nginxRoot, "-g", "daemon off; master_process off;"], {
    stdio: "ignore",
  });
  await untilAnswers(`http://127.0.0.1:${port}/`);
  nginxStarts.push(performance.now() - started);
  await stop(child);
}
console.log("1. cold start to the first answer (median of 5)");
console.log(`   Calmroom /healthz, fresh SQLite, migrations, admin from the environment: ${median(coldStarts).toFixed(0)} ms`);
console.log(`   nginx, same way: ${median(nginxStarts).toFixed(0)} ms (ratio ${(median(coldStarts) / median(nginxStarts)).toFixed(1)}x)`);
}

// The server the rest of the run uses.
const data = fs.mkdtempSync(path.join(os.tmpdir(), "calmroom-bench-"));
const port = 3310;
const base = `http://127.0.0.1:${port}`;
const server = startServer(port, data);
await untilAnswers(`${base}/healthz`);
await sleep(3000);
const rssStart = rssMb(server.pid);

// 2. Sign-ins.
async function signIn(email, password, on = base) {
  const r = await fetch(`${on}/api/sign_in`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email, password }),
    redirect: "manual",
  });
  return { status: r.status, cookie: (r.headers.get("set-cookie") ?? "").split(";")[0] };
}
const adminCookie = (await signIn(admin.email, admin.password)).cookie;
async function call(fn, form, cookie = adminCookie, on = base) {
  return fetch(`${on}/api/${fn}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams(form),
    redirect: "manual",
  });
}
// Twenty responders: they sign in in part 2, and the war room offers them for roles.
async function seedPeople(on = base, cookie = adminCookie) {
  const people = [];
  for (let i = 0; i < 20; i++) {
    const email = `p${i}@example.com`;
    const r = await call("create_user", { name: `Person ${i}`, email, org_role: "responder" }, cookie, on);
    people.push({ email, password: (await r.json()).initial_password });
  }
  return people;
}
const people = await seedPeople();
if (part(2)) {
const statuses = {};
let next = 0;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (next < 100) {
      const person = people[next++ % people.length];
      const { status } = await signIn(person.email, person.password);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }),
);
const rssAfter = rssMb(server.pid);
await sleep(20_000);
const rssIdle = rssMb(server.pid);
console.log("2. server RSS");
console.log(`   right after start: ${rssStart.toFixed(1)} MB; right after 100 sign-ins (4 at a time, answers ${JSON.stringify(statuses)}): ${rssAfter.toFixed(1)} MB; idle 20 s later: ${rssIdle.toFixed(1)} MB`);
}

// An incident with some history for the war room.
async function seedIncident(on = base, cookie = adminCookie) {
  const declared = await call("declare_incident", {
    title: "Checkout latency above 2 s",
    severity: "sev2",
    impact: "Card payments slow for a third of checkouts",
    best_guess: "Connection pool exhausted on payments-db",
  }, cookie, on);
  const number = (declared.headers.get("location") ?? "").split("/").pop();
  for (let i = 0; i < 40; i++) {
    await call("add_timeline_note", { number, body: `Note ${i}: checked dashboard ${i}, p99 still elevated.` }, cookie, on);
  }
  return number;
}
const number = await seedIncident();

// 3. What each page loads, and its sizes as sent.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic"],
});
async function signedInContext(on = base) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const r = await context.request.post(`${on}/api/sign_in`, { form: admin });
  if (!r.ok()) throw new Error(`sign-in ${r.status()}`);
  return context;
}
const sized = new Map();
async function sizes(url) {
  if (!sized.has(url)) {
    const as = async (encoding, tries = 1) => {
      // fetch decodes: the bytes on the wire are in Content-Length. A file
      // squeezed on the fly has none; a big one gets a gzip copy of its own
      // on the first request that takes gzip and not brotli: ask again.
      for (let attempt = 1; ; attempt++) {
        const r = await fetch(`${base}${url}`, { headers: { "accept-encoding": encoding } });
        const length = Number(r.headers.get("content-length") ?? 0);
        const body = new Uint8Array(await r.arrayBuffer());
        const sent = r.headers.get("content-encoding") ?? "identity";
        if (length || sent === "identity" || attempt >= tries) {
          return { length: length || body.length, encoding: sent };
        }
        await new Promise((done) => setTimeout(done, 100));
      }
    };
    const raw = await as("identity");
    const gzip = await as("gzip", raw.length >= 16 * 1024 ? 50 : 1);
    sized.set(url, { raw, gzip, br: await as("br") });
  }
  return sized.get(url);
}
const routes = [
  "/sign-in",
  "/",
  "/incidents",
  `/incidents/${number}`,
  `/incidents/${number}/comms`,
  `/incidents/${number}/postmortem`,
  "/insights",
  "/leadership",
  "/admin/users",
];
if (part(3) || part(5)) console.log("3. bundle each page loads (as sent: raw / gzip / brotli)");
for (const route of part(3) || part(5) ? routes : []) {
  const context = await (route === "/sign-in" ? browser.newContext() : signedInContext());
  const page = await context.newPage();
  const files = new Set();
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/pkg/")) files.add(u.pathname);
  });
  await page.goto(`${base}${route}`);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 30_000 });
  let raw = 0, gz = 0, br = 0;
  const parts = [];
  for (const file of [...files].sort()) {
    const s = await sizes(file);
    raw += s.raw.length; gz += s.gzip.length; br += s.br.length;
    parts.push(`${path.basename(file)} ${kb(s.raw.length)}/${kb(s.gzip.length)}/${kb(s.br.length)}`);
  }
  console.log(`   ${route}: ${files.size} files, ${kb(raw)} / ${kb(gz)} / ${kb(br)}  [${parts.join(", ")}]`);
  await context.close();
}

// 4. A phone on a slow network with a slow CPU. `rate` 1 is the same network
// at this machine's full speed; a page without `data-hydrated` (the
// script-free status page) counts until its load event instead.
async function slowLoad(context, url, rate = 4) {
  const page = await context.newPage();
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === "true") {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 40,
    downloadThroughput: (10 * 1000 * 1000) / 8,
    uploadThroughput: (10 * 1000 * 1000) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate });
  let wire = 0;
  cdp.on("Network.loadingFinished", (e) => (wire += e.encodedDataLength));
  await page.goto(url);
  // Wait with one small expression at a time, evaluated through the CDP
  // session: Playwright's own waiting (waitForFunction, evaluate) first
  // injects its helper script into the page, and at 4x that cost the
  // throttled main thread 45-60 ms, before hydration on a warm load (a trace
  // showed it between the load event and the wasm compile).
  const ask = async (expression) =>
    (await cdp.send("Runtime.evaluate", { expression, returnByValue: true })).result.value;
  const painted = "performance.getEntriesByName('first-contentful-paint').length > 0";
  const done = url.endsWith("/status")
    ? `performance.getEntriesByType('navigation')[0]?.loadEventEnd > 0 && ${painted}`
    : `window.__hydratedAt !== undefined && ${painted}`;
  for (const started = performance.now(); !(await ask(done)); await sleep(100)) {
    if (performance.now() - started > 60_000) throw new Error(`${url} did not finish loading`);
  }
  const timing = await ask(`({
    hydrated: window.__hydratedAt ?? performance.getEntriesByType("navigation")[0].loadEventEnd,
    visible: performance.getEntriesByName("first-contentful-paint")[0].startTime,
  })`);
  await page.close();
  return { ...timing, wire };
}
const show = (runs) =>
  `content visible ${median(runs.map((r) => r.visible)).toFixed(0)} ms, hydrated ${median(runs.map((r) => r.hydrated)).toFixed(0)} ms, ${kb(median(runs.map((r) => r.wire)))} on the wire`;
if (part(4)) {
  console.log("4. 10 Mbit/s, 40 ms RTT, CPU slowed 4x (median of 5), from navigation:");
  // Same-run baselines: how fast this machine is today. The emulation slows
  // this machine's CPU, so the goal figure moves with the machine and its load.
  const baseline = [], fullSpeed = [];
  for (let i = 0; i < 5; i++) {
    const context = await signedInContext();
    baseline.push(await slowLoad(context, `${base}/status`));
    fullSpeed.push(await slowLoad(context, `${base}/incidents/${number}`, 1));
    await context.close();
  }
  const statusLoaded = median(baseline.map((r) => r.hydrated));
  console.log(`   baseline, the script-free status page, empty cache: content visible ${median(baseline.map((r) => r.visible)).toFixed(0)} ms, loaded ${statusLoaded.toFixed(0)} ms`);
  console.log(`   baseline, war room with the CPU not slowed, empty cache: hydrated ${median(fullSpeed.map((r) => r.hydrated)).toFixed(0)} ms`);
  // The war room (the goal) and the dashboard (where sign-in lands; its screen is a split-out part).
  for (const [name, url] of [["war room", `${base}/incidents/${number}`], ["dashboard", `${base}/`]]) {
    const cold = [], warm = [];
    for (let i = 0; i < 5; i++) {
      const context = await signedInContext();
      cold.push(await slowLoad(context, url));
      warm.push(await slowLoad(context, url));
      await context.close();
    }
    const ratio = (runs) => (median(runs.map((r) => r.hydrated)) / statusLoaded).toFixed(2);
    console.log(`   ${name}, empty cache: ${show(cold)} (${ratio(cold)}x the status page)`);
    console.log(`   ${name}, warm cache:  ${show(warm)} (${ratio(warm)}x the status page)`);
  }
}
// 6. Another build beside this one, loaded alternately with it.
if (part(6) && process.env.CALMROOM_BENCH_BASELINE) {
  const folder = path.resolve(process.env.CALMROOM_BENCH_BASELINE);
  const otherData = fs.mkdtempSync(path.join(os.tmpdir(), "calmroom-bench-"));
  const otherBase = `http://127.0.0.1:${port + 1}`;
  const other = startServer(port + 1, otherData, { binary: path.join(folder, "server"), site: path.join(folder, "site") });
  await untilAnswers(`${otherBase}/healthz`);
  const otherCookie = (await signIn(admin.email, admin.password, otherBase)).cookie;
  await seedPeople(otherBase, otherCookie);
  const otherNumber = await seedIncident(otherBase, otherCookie);
  const runs = { this: { cold: [], warm: [] }, other: { cold: [], warm: [] } };
  for (let i = 0; i < 9; i++) {
    // Alternate which build goes first, so neither always loads after the other.
    const order = i % 2 ? ["other", "this"] : ["this", "other"];
    for (const which of order) {
      const on = which === "this" ? base : otherBase;
      const context = await signedInContext(on);
      const url = `${on}/incidents/${which === "this" ? number : otherNumber}`;
      runs[which].cold.push(await slowLoad(context, url));
      runs[which].warm.push(await slowLoad(context, url));
      await context.close();
    }
  }
  const hydrated = (r) => median(r.map((x) => x.hydrated));
  console.log(`6. war room as in 4, this build alternated with the one in ${path.basename(folder)} (median of 9 each):`);
  for (const cache of ["cold", "warm"]) {
    const [a, b] = [hydrated(runs.this[cache]), hydrated(runs.other[cache])];
    console.log(`   ${cache === "cold" ? "empty" : "warm"} cache: this build ${show(runs.this[cache])}; the other ${show(runs.other[cache])}; this / other ${(a / b).toFixed(2)}`);
  }
  await stop(other);
  fs.rmSync(otherData, { recursive: true, force: true });
}
await browser.close();

// 5. Public routes and the wasm under wrk, beside nginx with the same bytes.
if (part(5)) {
const wasmUrl = [...sized.keys()].find((u) => u.endsWith("/calmroom.wasm"));
const targets = [
  ["/status", "status.html", "text/html; charset=utf-8"],
  ["/api/v2/summary.json", "summary.json", "application/json"],
  [wasmUrl, "bundle.wasm", "application/wasm"],
];
for (const [url, file] of targets) {
  // fetch would decode the body: curl keeps the bytes as sent.
  execFileSync("curl", ["-s", "-H", "accept-encoding: br", "-o", path.join(nginxRoot, file), `${base}${url}`]);
}
const types = targets.map(([, file, type]) => `location = /${file} { default_type "${type}"; add_header Content-Encoding br; }`).join(" ");
const nginxConf = path.join(nginxRoot, "bench.conf");
fs.writeFileSync(
  nginxConf,
  `worker_processes 2; pid ${nginxRoot}/bench.pid; error_log stderr crit; events { worker_connections 1024; } http { access_log off; server { listen ${new URL(nginxBase).host}; root ${nginxRoot}; ${types} } }\n`,
);
const nginx = spawn("nginx", ["-c", nginxConf, "-p", nginxRoot, "-g", "daemon off;"], { stdio: "inherit" });
await sleep(500);
function wrk(url) {
  const out = execFileSync("wrk", ["-t2", "-c32", "-d10s", "-H", "Accept-Encoding: br", url], { encoding: "utf8" });
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
}
console.log("5. wrk -t2 -c32 -d10s, Accept-Encoding: br (req/s; nginx serves the same bytes from files)");
for (const [url, file] of targets) {
  const ours = wrk(`${base}${url}`);
  const theirs = wrk(`${nginxBase}/${file}`);
  const size = fs.statSync(path.join(nginxRoot, file)).size;
  console.log(`   ${url} (${kb(size)} as sent): Calmroom ${ours.toFixed(0)}, nginx ${theirs.toFixed(0)} (ratio ${(theirs / ours).toFixed(1)}x)`);
}
await stop(nginx);
}
await stop(server);
fs.rmSync(data, { recursive: true, force: true });
