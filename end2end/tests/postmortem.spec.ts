import { expect, test } from "@playwright/test";
import { admin, createUser, ensureAdmin, hydrated, signIn } from "./people";

test("a resolved incident gets a postmortem whose prevention item is tracked until verified", async ({
  browser,
  request,
}) => {
  await ensureAdmin(request);
  const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
  const [ic, owner] = await Promise.all(contexts.map((c) => c.newPage()));
  const errors: string[] = [];
  for (const page of [ic, owner]) page.on("pageerror", (e) => errors.push(e.message));

  // The admin declares (and so is IC), logs a decision, and resolves.
  await signIn(ic, admin.email, admin.password);
  const pat = { name: "Pat Owner", email: "pat@example.com" };
  const patPassword = await createUser(ic, pat.name, pat.email, "responder");
  const declared = await ic.request.post("/api/declare_incident", {
    form: { title: "Config push broke search", severity: "sev2", impact: "Search returned no results for 25 minutes", best_guess: "" },
    maxRedirects: 0,
  });
  const number = Number((declared.headers()["location"] ?? "").split("/").pop());
  const me = await (await ic.request.post("/api/auth_state")).json();
  const logged = await ic.request.post("/api/log_decision", {
    form: { number: String(number), decision: "Roll back the config push", reason: "Errors began with it", owner_id: String(me.user.id) },
  });
  expect(logged.status()).toBe(200);
  const room = await (await ic.request.post("/api/get_war_room", { form: { number: String(number) } })).json();
  const resolved = await ic.request.post("/api/change_status", {
    form: { number: String(number), version: String(room.room.version), status: "resolved", severity: "sev2" },
  });
  expect(resolved.status()).toBe(200);

  // From the war room, the IC starts the postmortem; the timeline holds the decision.
  await ic.goto(`/incidents/${number}`);
  await hydrated(ic);
  await ic.getByRole("link", { name: "Postmortem" }).click();
  await ic.getByRole("button", { name: "Start the postmortem" }).click();
  const timeline = ic.getByTestId("pm-timeline");
  await expect(timeline).toContainText("Decision: Roll back the config push. Reason: Errors began with it.");
  await expect(ic.getByTestId("pm-status")).toHaveText("Draft");

  // A prevention item for Pat; publishing is stopped for want of a detection item.
  const addItem = async (title: string, kind: string, verification: string) => {
    await ic.getByLabel("What will be done").fill(title);
    await ic.getByLabel("Kind").selectOption(kind);
    await ic.getByLabel("Owner", { exact: true }).selectOption({ label: pat.name });
    await ic.getByLabel("Due").fill("2026-12-10");
    await ic.getByLabel("How we will know it worked").fill(verification);
    await ic.getByRole("button", { name: "Add the item" }).click();
    await expect(ic.getByTestId("pm-items")).toContainText(title);
  };
  await addItem("Stage config pushes through a canary", "prevention", "A bad push stops at the canary in a drill");
  await ic.getByRole("button", { name: "Publish", exact: true }).click();
  const override = ic.getByTestId("pm-override");
  await expect(override).toContainText("At least one detection item");
  await expect(ic.getByTestId("pm-status")).toHaveText("Draft");

  await addItem("Alert when search returns nothing", "detection", "The alert fires in a replay of this incident");
  await expect(ic.locator(".check-fail")).toHaveCount(0);
  await ic.getByRole("button", { name: "Publish", exact: true }).click();
  await expect(ic.getByTestId("pm-status")).toHaveText("Published");

  // The incident reached the status page; the IC publishes a summary for
  // customers there, checked like any customer-facing update.
  const customer = await ic.request.post("/api/publish_update", {
    data: {
      number,
      kind: "customer",
      values: { issue: "Search returned no results", impact: "Searches found nothing for 25 minutes.", mitigation: "We undid the change." },
      confirm: true,
    },
  });
  expect(customer.status()).toBe(200);
  const summary = ic.getByTestId("pm-public-summary");
  await summary.getByLabel("Summary for customers").fill(`${pat.name} rolled back the config push.`);
  await summary.getByRole("button", { name: "Publish on the status page" }).click();
  await expect(summary.getByRole("alert")).toContainText(pat.name);
  const text = "For 25 minutes searches found nothing after a configuration change. Changes now reach a small share of traffic first.";
  await summary.getByLabel("Summary for customers").fill(text);
  await summary.getByRole("button", { name: "Publish on the status page" }).click();
  await expect(summary.locator(".pm-public-text")).toContainText("small share of traffic first");
  const visitor = await browser.newPage();
  await expect
    .poll(async () => {
      await visitor.goto("/status");
      return (await visitor.locator("body").textContent()) ?? "";
    })
    .toContain("small share of traffic first");
  await expect(visitor.locator("body")).toContainText("Postmortem");
  await visitor.close();

  // Pat finds the item in their list; the incident is at recurrence risk.
  await signIn(owner, pat.email, patPassword);
  await expect(owner.getByTestId("my-items")).toContainText("Stage config pushes through a canary");
  await expect(owner.locator(`[data-testid="risk"][data-number="${number}"]`)).toBeVisible();

  // Pat works it through; verifying needs evidence.
  await owner.goto(`/action-items?owner=me&incident=${number}`);
  await hydrated(owner);
  const item = owner.locator('[data-item-title="Stage config pushes through a canary"]');
  await item.getByRole("button", { name: "Start" }).click();
  await item.getByRole("button", { name: "Mark done" }).click();
  await item.getByRole("button", { name: "Mark verified" }).click();
  await expect(item.locator(".field-error")).toContainText("Say what shows it works");
  await item.getByLabel("Evidence it works").fill("Drill on 3 Dec: the bad push stopped at the canary");
  await item.getByRole("button", { name: "Mark verified" }).click();
  await expect(item).toContainText(`Verified by ${pat.name}: Drill on 3 Dec`);

  // With its only prevention item verified, the incident leaves the risk list.
  await owner.goto("/");
  await hydrated(owner);
  await expect(owner.getByTestId("at-risk")).toBeVisible();
  await expect(owner.locator(`[data-testid="risk"][data-number="${number}"]`)).toHaveCount(0);

  expect(errors).toEqual([]);
  await Promise.all(contexts.map((c) => c.close()));
});
