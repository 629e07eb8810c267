import { test, expect, type Page } from "@playwright/test";
import { admin, ensureAdmin, hydrated, signIn } from "./people";

// Every page hydrates without a page error, in whichever build the server was
// made with (the test command runs this file against the debug and the release
// build), and the browser bundle comes under content-hashed names that
// browsers may keep for a year.

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

test("every page hydrates without errors and links its bundle by content-hashed names", async ({
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
    `/incidents/${number}/postmortem`,
    `/incidents/${number}/postmortem/review`,
    "/account",
    "/action-items",
    "/insights",
    "/leadership",
    "/admin/status",
    "/admin/templates",
    "/admin/users",
  ];
  for (const path of pages) {
    await page.goto(path);
    await hydrated(page);
    expect(errors, `page errors on ${path}`).toEqual([]);
  }

  // A fresh browser opening the war room: one wasm, one JS glue, one stylesheet,
  // each under a hashed name, compressed, and cacheable for a year.
  const fresh = await page.context().browser()!.newContext();
  // Signed in without a page, so the war room is the first page this browser loads.
  const signedIn = await fresh.request.post("/api/sign_in", {
    form: { email: admin.email, password: admin.password },
  });
  expect(signedIn.status()).toBe(200);
  const watcher = await fresh.newPage();
  const fetched = bundleRequests(watcher);
  await watcher.goto(`/incidents/${number}`);
  await hydrated(watcher);
  await expect.poll(() => fetched.length).toBeGreaterThanOrEqual(3);
  const wasm = fetched.filter((f) => f.url.endsWith(".wasm"));
  expect(wasm.length, JSON.stringify(fetched)).toBe(1);
  for (const file of fetched) {
    expect(file.url, "content-hashed name").toMatch(/^\/pkg\/calmroom\.[0-9a-f]{16}\.(wasm|js|css)$/);
    expect(file.cache).toBe("public, max-age=31536000, immutable");
  }
  const wasmBytes = wasm.reduce((sum, f) => sum + f.bytes, 0);
  console.log(`war room bundle: ${fetched.length} files, wasm ${wasmBytes} bytes on the wire (${wasm[0].encoding || "identity"})`);
  await fresh.close();
});
