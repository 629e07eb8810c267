import { expect, test } from "@playwright/test";
import { admin, createUser, ensureAdmin, hydrated, signIn } from "./people";

test("two responders work one incident live, from declaration to resolved", async ({ browser, request }) => {
  await ensureAdmin(request);
  const contextA = await browser.newContext();
  const contextB = await browser.newContext();
  const a = await contextA.newPage();
  const b = await contextB.newPage();
  const errors: string[] = [];
  for (const page of [a, b]) page.on("pageerror", (e) => errors.push(e.message));

  await signIn(a, admin.email, admin.password);
  const bea = { name: "Bea Comms", email: "bea@example.com" };
  const password = await createUser(a, bea.name, bea.email, "responder");

  await signIn(b, bea.email, password);
  await hydrated(b);
  await b.evaluate(() => ((window as unknown as { calmMarker: number }).calmMarker = 1));
  const sameDocument = async () =>
    expect(await b.evaluate(() => (window as unknown as { calmMarker?: number }).calmMarker)).toBe(1);

  // A declares; the browser lands in the war room with A as Incident Commander.
  await hydrated(a);
  await a.getByLabel("Title").fill("Checkout fails for EU customers");
  await a.getByLabel("Severity").selectOption("sev1");
  await a.getByLabel("Impact (optional)").fill("EU customers cannot pay");
  await a.getByRole("button", { name: "Declare and open the war room" }).click();
  await expect(a).toHaveURL(/\/incidents\/\d+$/);
  const warRoomUrl = a.url();
  await expect(a.locator('li[data-role="ic"] [data-testid="holder"]')).toHaveText(admin.name);

  // B's dashboard shows the new incident without a reload.
  const card = b.getByTestId("active-incidents").getByText("Checkout fails for EU customers");
  await expect(card).toBeVisible();
  await sameDocument();
  await card.click();
  await expect(b).toHaveURL(warRoomUrl);
  await expect(b.getByTestId("war-room")).toBeVisible();
  await sameDocument();

  // A assigns B as Comms Lead; B's open page shows it live.
  await hydrated(a);
  await a.locator('li[data-role="comms_lead"] select').selectOption({ label: bea.name });
  await a.locator('li[data-role="comms_lead"]').getByRole("button", { name: "Assign" }).click();
  await expect(b.locator('li[data-role="comms_lead"] [data-testid="holder"]')).toHaveText(bea.name);
  await sameDocument();

  // B logs a decision with the keyboard alone; A sees it live.
  await b.locator("body").press("d");
  await expect(b.locator("#decision-input")).toBeFocused();
  await b.keyboard.type("Roll back release 4.2");
  await b.keyboard.press("Tab");
  await b.keyboard.type("Errors began with the 4.2 deploy");
  await b.keyboard.press("Enter");
  await expect(a.getByTestId("decisions")).toContainText("Roll back release 4.2");
  await expect(a.getByTestId("decisions")).toContainText("Errors began with the 4.2 deploy");
  await expect(a.getByTestId("timeline")).toContainText("Decision: Roll back release 4.2");

  // A resolves; the dashboard lists it as resolved.
  await a.locator("#status-select").selectOption("resolved");
  await a.getByRole("button", { name: "Update" }).click();
  await expect(a.getByTestId("war-room").getByTestId("status").first()).toHaveText("Resolved");
  await expect(b.getByTestId("war-room").getByTestId("status").first()).toHaveText("Resolved");
  await a.goto("/");
  await expect(a.getByTestId("resolved-incidents")).toContainText("Checkout fails for EU customers");
  await expect(a.getByTestId("active-incidents")).not.toContainText("Checkout fails for EU customers");
  expect(errors).toEqual([]);
  await contextA.close();
  await contextB.close();
});

test("a war room refetches for its own incident's changes, not for another's", async ({ browser, request }) => {
  await ensureAdmin(request);
  const context = await browser.newContext();
  const watcher = await context.newPage();
  await signIn(watcher, admin.email, admin.password);

  const declare = async (title: string) => {
    const reply = await watcher.request.post("/api/declare_incident", {
      form: { title, severity: "sev3", impact: "", best_guess: "" },
      maxRedirects: 0,
    });
    const location = reply.headers()["location"] ?? "";
    return Number(location.split("/").pop());
  };
  const watched = await declare("Search is slow");
  const other = await declare("Billing emails delayed");

  await watcher.goto(`/incidents/${watched}`);
  await hydrated(watcher);
  let refetches = 0;
  watcher.on("request", (r) => {
    if (r.url().includes("/api/get_war_room")) refetches += 1;
  });
  const note = (number: number, body: string) =>
    watcher.request.post("/api/add_timeline_note", { form: { number: String(number), body } });

  await note(other, "not for this room");
  await watcher.waitForTimeout(1500);
  expect(refetches).toBe(0);

  await note(watched, "for this room");
  await expect(watcher.getByTestId("timeline")).toContainText("for this room");
  expect(refetches).toBeGreaterThan(0);
  await context.close();
});
