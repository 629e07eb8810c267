import { expect, test } from "@playwright/test";
import { admin, createUser, ensureAdmin, hydrated, signIn } from "./people";

test("the Comms Lead publishes, the public page shows it, a stakeholder asks and gets an answer", async ({
  browser,
  request,
}) => {
  await ensureAdmin(request);
  const contexts = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext(), browser.newContext()]);
  const [ic, comms, viewer, visitor] = await Promise.all(contexts.map((c) => c.newPage()));
  const errors: string[] = [];
  for (const page of [ic, comms, viewer, visitor]) page.on("pageerror", (e) => errors.push(e.message));

  // The admin (IC here) makes a Comms Lead and a stakeholder, declares, and hands over comms.
  await signIn(ic, admin.email, admin.password);
  const cal = { name: "Cal Comms", email: "cal@example.com" };
  const vic = { name: "Vic Viewer", email: "vic@example.com" };
  const calPassword = await createUser(ic, cal.name, cal.email, "responder");
  const vicPassword = await createUser(ic, vic.name, vic.email, "viewer");
  const declared = await ic.request.post("/api/declare_incident", {
    form: { title: "pg-primary-2 disk full", severity: "sev2", impact: "Card payments fail", best_guess: "" },
    maxRedirects: 0,
  });
  const number = Number((declared.headers()["location"] ?? "").split("/").pop());
  await ic.goto(`/incidents/${number}`);
  await hydrated(ic);
  await ic.locator('li[data-role="comms_lead"] select').selectOption({ label: cal.name });
  await ic.locator('li[data-role="comms_lead"]').getByRole("button", { name: "Assign" }).click();
  await expect(ic.locator('li[data-role="comms_lead"] [data-testid="holder"]')).toHaveText(cal.name);

  // The Comms Lead writes a customer-facing update; the guard catches a promise and a host name.
  await signIn(comms, cal.email, calPassword);
  await comms.goto(`/incidents/${number}/comms`);
  await hydrated(comms);
  await comms.getByLabel("Customer-facing update").check();
  await comms.getByLabel("Issue").fill("Card payments failing");
  await comms.getByLabel("Impact", { exact: true }).fill("Some card payments fail at checkout.");
  await comms.getByLabel("What we are doing").fill("Fixed on pg-primary-2 by 14:30.");
  await expect(comms.getByTestId("preview")).toContainText("Some card payments fail at checkout.");
  await comms.getByRole("button", { name: "Publish", exact: true }).click();
  const warnings = comms.getByTestId("guard-warnings");
  await expect(warnings).toContainText("by 14:30");
  await expect(warnings).toContainText("pg-primary-2");
  await comms.getByLabel("What we are doing").fill("We have found the cause and are restoring service.");
  await comms.getByRole("button", { name: "Publish", exact: true }).click();
  await expect(comms.getByTestId("updates")).toContainText("We have found the cause and are restoring service.");
  await expect(comms.getByTestId("guard-warnings")).toHaveCount(0);

  // The public page shows it to someone who never signed in, and nothing internal.
  await visitor.goto("/status");
  await expect(visitor.getByRole("heading", { name: "Card payments failing" })).toBeVisible();
  await expect(visitor.locator("body")).toContainText("We have found the cause and are restoring service.");
  await expect(visitor.locator("body")).not.toContainText("pg-primary-2");

  // A stakeholder reads the status channel and asks a question.
  await signIn(viewer, vic.email, vicPassword);
  await viewer.goto(`/incidents/${number}`);
  await hydrated(viewer);
  await expect(viewer.getByTestId("status-channel")).toContainText("We have found the cause");
  await viewer.getByRole("textbox", { name: "Your question" }).fill("Are refunds affected?");
  await viewer.getByRole("button", { name: "Ask" }).click();
  await expect(viewer.getByTestId("my-questions")).toContainText("Waiting for an answer.");

  // The question reaches the Comms Lead's queue live; the answer reaches the stakeholder live.
  const queue = comms.getByTestId("question-queue");
  await expect(queue).toContainText("Are refunds affected?");
  await queue.getByLabel("Answer").fill("Refunds work normally.");
  await queue.getByRole("button", { name: "Answer" }).click();
  await expect(viewer.getByTestId("my-questions")).toContainText("Refunds work normally.");

  // It never reached the responder timeline.
  await ic.goto(`/incidents/${number}`);
  await expect(ic.getByTestId("timeline")).toContainText("published the customer-facing update");
  await expect(ic.getByTestId("timeline")).not.toContainText("refunds");
  expect(errors).toEqual([]);
  await Promise.all(contexts.map((c) => c.close()));
});
