import { expect, test, type Browser } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { admin, hydrated, signIn } from "./people";

// Two server processes on one PostgreSQL (started by playwright.config.ts):
// a change made through replica A reaches a browser connected to replica B.
const pgUrl = process.env.CALMROOM_E2E_PG_URL;
const replicaA = "http://127.0.0.1:3108";
const replicaB = "http://127.0.0.1:3109";

async function pageOn(browser: Browser, baseURL: string) {
  const context = await browser.newContext({ baseURL });
  return { context, page: await context.newPage() };
}

test("a change made on one replica shows live on another, also after its listener is cut", async ({ browser }) => {
  test.skip(!pgUrl && !process.env.CI, "needs PostgreSQL, which the test command provides");
  expect(pgUrl, "CI runs this journey on PostgreSQL").toBeTruthy();
  const a = await pageOn(browser, replicaA);
  const b = await pageOn(browser, replicaB);
  const errors: string[] = [];
  for (const { page } of [a, b]) page.on("pageerror", (e) => errors.push(e.message));

  // The first admin is made on A (which signs them in there) and signs in on B.
  const created = await a.page.request.post("/api/create_first_admin", {
    form: { name: admin.name, email: admin.email, password: admin.password },
  });
  expect(created.status()).toBe(200);
  await signIn(b.page, admin.email, admin.password);

  const declared = await a.page.request.post("/api/declare_incident", {
    form: { title: "Checkout times out", severity: "sev1", impact: "Checkout fails for most customers", best_guess: "" },
    maxRedirects: 0,
  });
  const number = Number((declared.headers()["location"] ?? "").split("/").pop());
  expect(number).toBeGreaterThan(0);
  await b.page.goto(`/incidents/${number}`);
  await hydrated(b.page);
  await expect(b.page.getByRole("heading", { name: /Checkout times out/ })).toBeVisible();

  // A decision logged through A appears in B's war room within a second.
  const me = await (await a.page.request.post("/api/auth_state")).json();
  const logged = await a.page.request.post("/api/log_decision", {
    form: { number: String(number), decision: "Fail over to the secondary region", reason: "Primary is saturated", owner_id: String(me.user.id) },
  });
  expect(logged.status()).toBe(200);
  await expect(b.page.getByText("Fail over to the secondary region").first()).toBeVisible({ timeout: 1_000 });

  // A customer-facing update published on A shows on B's public page.
  const published = await a.page.request.post("/api/publish_update", {
    data: {
      number,
      kind: "customer",
      values: {
        issue: "Checkout unavailable",
        impact: "Customers cannot complete checkout.",
        mitigation: "We are moving traffic to healthy capacity.",
      },
      confirm: true,
    },
  });
  expect(published.status()).toBe(200);
  const visitor = await pageOn(browser, replicaB);
  await expect(async () => {
    await visitor.page.goto("/status");
    await expect(visitor.page.getByRole("heading", { name: "Checkout unavailable" })).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 5_000 });

  // Cut every replica's listener connection: a change made on A still reaches B's browser.
  const cut = execFileSync("psql", [
    pgUrl ?? "",
    "-Atqc",
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'calmroom-listener' AND datname = current_database()",
  ])
    .toString()
    .trim();
  expect(Number(cut)).toBeGreaterThanOrEqual(2);
  const note = await a.page.request.post("/api/add_timeline_note", {
    form: { number: String(number), body: "Secondary region is taking traffic" },
  });
  expect(note.status()).toBe(200);
  await expect(b.page.getByText("Secondary region is taking traffic").first()).toBeVisible({ timeout: 3_000 });

  expect(errors).toEqual([]);
  await Promise.all([a.context.close(), b.context.close(), visitor.context.close()]);
});
