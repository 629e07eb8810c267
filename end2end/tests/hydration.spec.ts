import { test, expect, type Page } from "@playwright/test";
import { admin, ensureAdmin, hydrated, signIn } from "./people";

// Every page hydrates without a page error, in whichever build the server was
// made with (the test command runs this file against the debug and the release
// build), and the browser bundle comes in a folder named after the build that
// browsers may keep for a year. Rarely used screens (app/src/pages/on_demand.rs)
// are split out of the bundle: the war room loads one wasm, and a split-out
// screen loads its own part once it is shown.

/// What the page fetched from /pkg/: each address and its size on the wire.
function bundleRequests(page: Page) {
  const fetched: { url: string; bytes: number; cache: string; encoding: string }[] = [];
  page.on("response", async (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith("/pkg/")) return;
    const headers = response.headers();
    const sizes = await response.request().sizes().catch(() => null);
    fetched.push({
      url: url.pathname,
      bytes: sizes?.responseBodySize ?? 0,
      cache: headers["cache-control"] ?? "",
      encoding: headers["content-encoding"] ?? "",
    });
  });
  return fetched;
}

test("every page hydrates without errors and the war room loads only its own part of the bundle", async ({
  page,
  request,
}) => {
  await ensureAdmin(request);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, admin.email, admin.password);

  const reply = await page.request.post("/api/declare_incident", {
    form: { title: "Hydration check", severity: "sev3", impact: "", best_guess: "" },
    maxRedirects: 0,
  });
  const number = Number((reply.headers()["location"] ?? "").split("/").pop());
  expect(number).toBeGreaterThan(0);

  const pages = [
    "/",
    "/incidents",
    `/incidents/${number}`,
    `/incidents/${number}/comms`,
    `/incidents/${number}/channel`,
    `/incidents/${number}/postmortem`,
    `/incidents/${number}/postmortem/review`,
    "/account",
    "/action-items",
    "/alerts",
    "/insights",
    "/leadership",
    "/admin/status",
    "/admin/templates",
    "/admin/users",
    "/admin/integrations",
  ];
  for (const path of pages) {
    await page.goto(path);
    await hydrated(page);
    expect(errors, `page errors on ${path}`).toEqual([]);
  }

  // A fresh browser opening the war room: one wasm, one JS glue, the loader of
  // split-out screens and one stylesheet, all in the build's folder,
  // compressed, and cacheable for a year.
  const fresh = await page.context().browser()!.newContext();
  // Signed in without a page, so the war room is the first page this browser loads.
  const signedIn = await fresh.request.post("/api/sign_in", {
    form: { email: admin.email, password: admin.password },
  });
  expect(signedIn.status()).toBe(200);
  const watcher = await fresh.newPage();
  const watcherErrors: string[] = [];
  watcher.on("pageerror", (e) => watcherErrors.push(e.message));
  const fetched = bundleRequests(watcher);
  await watcher.goto(`/incidents/${number}`);
  await hydrated(watcher);
  await expect.poll(() => fetched.length).toBeGreaterThanOrEqual(3);
  const wasm = fetched.filter((f) => f.url.endsWith(".wasm"));
  expect(wasm.length, JSON.stringify(fetched)).toBe(1);
  const folder = wasm[0].url.replace(/[^/]*$/, "");
  expect(folder, "a folder named after the build").toMatch(/^\/pkg\/[0-9a-f]{16}\/$/);
  for (const file of fetched) {
    expect(file.url.startsWith(folder), file.url).toBe(true);
    expect(file.cache).toBe("public, max-age=31536000, immutable");
  }
  const wasmBytes = wasm.reduce((sum, f) => sum + f.bytes, 0);
  console.log(`war room bundle: ${fetched.length} files, wasm ${wasmBytes} bytes on the wire (${wasm[0].encoding || "identity"})`);

  // Going on to a split-out screen fetches its part, from the same folder, and shows it.
  fetched.length = 0;
  await watcher.locator("[data-testid=user-name]").click();
  await expect(watcher.getByRole("heading", { name: "Your account" })).toBeVisible();
  const parts = fetched.filter((f) => f.url.endsWith(".wasm"));
  expect(parts.length, "the account screen's part").toBeGreaterThanOrEqual(1);
  for (const file of parts) {
    expect(file.url.startsWith(folder), file.url).toBe(true);
    expect(file.url.endsWith("/calmroom.wasm"), "not the whole bundle again").toBe(false);
  }
  expect(watcherErrors).toEqual([]);
  await fresh.close();
});

test("a screen whose part of the bundle cannot be fetched loads the page again, once", async ({
  page,
  request,
}) => {
  // As a tab opened before an upgrade finds its build's parts gone.
  await ensureAdmin(request);
  await signIn(page, admin.email, admin.password);
  await page.goto("/");
  await hydrated(page);
  await page.evaluate(() => ((window as any).__beforeReload = true));
  let refused = 0;
  await page.route(/\/pkg\/.*\.wasm$/, async (route) => {
    if (!route.request().url().endsWith("/calmroom.wasm") && refused === 0) {
      refused++;
      return route.fulfill({ status: 404 });
    }
    return route.continue();
  });
  await page.locator("[data-testid=user-name]").click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await hydrated(page);
  expect(refused).toBe(1);
  expect(await page.evaluate(() => (window as any).__beforeReload), "the page was loaded again").toBeUndefined();
});
