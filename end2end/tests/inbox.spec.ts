import { expect, test } from "@playwright/test";
import { admin, ensureAdmin, hydrated, signIn } from "./people";

test("an alert arrives live in the inbox, becomes an incident in one click, and its resolution reaches the war room", async ({
  page,
  request,
}) => {
  await ensureAdmin(request);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, admin.email, admin.password);

  // An admin connects a PagerDuty-speaking sender and gets its routing key once.
  await page.goto("/admin/integrations");
  await hydrated(page);
  await page.getByLabel("Name").fill("Uptime probes");
  await page.getByLabel("It speaks").selectOption("pagerduty");
  await page.getByRole("button", { name: "Connect" }).click();
  const key = (await page.getByTestId("integration-secret").innerText()).trim();
  expect(key).toMatch(/^[0-9a-f]{32}$/);

  // The inbox is open when the alert arrives: it shows up without a reload.
  await page.goto("/alerts");
  await hydrated(page);
  const dedup = `checkout-${Date.now()}`;
  const summary = `Checkout error rate above 5% (${dedup})`;
  const sent = await request.post("/v2/enqueue", {
    data: {
      routing_key: key,
      event_action: "trigger",
      dedup_key: dedup,
      payload: { summary, source: "checkout-api", severity: "critical" },
    },
  });
  expect(sent.status()).toBe(202);
  const card = page.getByTestId("alert-group").filter({ hasText: summary });
  await expect(card).toBeVisible();
  await expect(card).toContainText("Uptime probes");

  // Declare: the form comes filled in from the alert.
  await card.getByRole("button", { name: "Declare" }).click();
  await expect(card.getByLabel("Title")).toHaveValue(summary);
  await expect(card.getByLabel("Severity")).toHaveValue("sev1");
  await card.getByRole("button", { name: "Declare and open the war room" }).click();
  await expect(page).toHaveURL(/\/incidents\/\d+$/);
  await hydrated(page);
  const attached = page.getByTestId("attached-alert");
  await expect(attached).toContainText(summary);
  await expect(attached).toHaveAttribute("data-state", "firing");

  // The sender resolves it: the war room says so, live, and so does the timeline.
  const resolved = await request.post("/v2/enqueue", {
    data: { routing_key: key, event_action: "resolve", dedup_key: dedup },
  });
  expect(resolved.status()).toBe(202);
  await expect(attached).toHaveAttribute("data-state", "resolved");
  await expect(page.getByTestId("timeline")).toContainText("resolved");
  expect(errors).toEqual([]);
});
