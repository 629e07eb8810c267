import { expect, test, type Page } from "@playwright/test";
import { admin, createUser, ensureAdmin, hydrated, signIn } from "./people";

const tess = { name: "Tess Tech", email: "tess@example.com" };
const lee = { name: "Lee Leader", email: "lee@example.com" };

test("a leader approves a high-impact mitigation live and clears a blocker from the leadership view", async ({
  browser,
  request,
}) => {
  await ensureAdmin(request);
  const contexts = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext()]);
  const [ic, tl, leader] = await Promise.all(contexts.map((c) => c.newPage()));
  const errors: string[] = [];
  for (const page of [ic, tl, leader]) page.on("pageerror", (e) => errors.push(e.message));

  // The admin makes Tess a responder and Lee a viewer with the leadership permission.
  await signIn(ic, admin.email, admin.password);
  const tessPassword = await createUser(ic, tess.name, tess.email, "responder");
  const leePassword = await createUser(ic, lee.name, lee.email, "viewer");
  await ic.goto("/admin/users");
  await hydrated(ic);
  await ic.getByLabel(`${lee.name} may authorise mitigations`).check();
  await expect(ic.getByLabel(`${lee.name} may authorise mitigations`)).toBeChecked();

  // The admin declares and puts Tess in the Tech Lead seat.
  await ic.goto("/");
  await hydrated(ic);
  await ic.getByLabel("Title").fill("Primary region is failing");
  await ic.getByLabel("Severity").selectOption("sev1");
  await ic.getByRole("button", { name: "Declare and open the war room" }).click();
  await expect(ic).toHaveURL(/\/incidents\/\d+$/);
  const warRoom = ic.url();
  await hydrated(ic);
  await ic.locator('li[data-role="tech_lead"] select').selectOption({ label: tess.name });
  await ic.locator('li[data-role="tech_lead"]').getByRole("button", { name: "Assign" }).click();
  await expect(ic.locator('li[data-role="tech_lead"] [data-testid="holder"]')).toHaveText(tess.name);

  // Lee waits on the dashboard; nothing asks for them yet.
  await signIn(leader, lee.email, leePassword);
  await hydrated(leader);
  await expect(leader.getByTestId("approval-banner")).toHaveCount(0);

  // Tess asks for authorisation in the war room.
  await signIn(tl, tess.email, tessPassword);
  await tl.goto(warRoom);
  await hydrated(tl);
  await tl.getByText("Ask leaders to authorise a mitigation").click();
  await tl.getByLabel("Mitigation", { exact: true }).fill("shift traffic to the secondary region");
  await tl.getByLabel("Why, and what it risks").fill("The primary region drops half the requests");
  await tl.getByRole("button", { name: "Ask for authorisation" }).click();
  await expect(tl.getByTestId("approval")).toContainText("waiting");

  // Lee sees it at once, with how long it has waited, and approves it on the leadership view.
  const banner = leader.getByTestId("approval-banner");
  await expect(banner).toContainText("shift traffic to the secondary region");
  await expect(banner).toContainText("waiting");
  await banner.getByRole("link", { name: "Review on the leadership view" }).click();
  await expect(leader.getByRole("heading", { name: "Leadership", exact: true })).toBeVisible();
  await hydrated(leader);
  const request_ = leader.locator("#approvals").getByTestId("approval");
  await expect(request_).toContainText("The primary region drops half the requests");
  await request_.getByLabel("Note").fill("Go ahead; tell support first");
  await request_.getByRole("button", { name: "Approve" }).click();
  await expect(leader.locator("#approvals")).toContainText("Nothing is waiting.");

  // Tess's war room shows the decision with the approver's name, without a reload.
  await expect(tl.getByTestId("decisions")).toContainText(
    `Approved by ${lee.name}: shift traffic to the secondary region`,
  );
  await expect(tl.getByTestId("approval-outcome")).toContainText(`Approved by ${lee.name}`);

  // Tess raises a blocker; it appears on Lee's leadership view with its age.
  await tl.getByLabel("What is in the way").fill("Need write access to the payments database");
  await tl.getByRole("button", { name: "Raise a blocker" }).click();
  const blocker = leader.getByTestId("blocker").filter({ hasText: "Need write access to the payments database" });
  await expect(blocker).toBeVisible();
  await expect(blocker).toContainText("Nobody is on it yet");
  await expect(blocker).toContainText("open");
  await blocker.getByRole("button", { name: "I'm on it" }).click();
  await expect(blocker).toContainText(`${lee.name} is on it`);
  await expect(tl.getByTestId("blocker").first()).toContainText(`${lee.name} is on it`);
  await blocker.getByLabel("What cleared it").fill("DBA granted access for 24 hours");
  await blocker.getByRole("button", { name: "Resolve" }).click();
  await expect(leader.getByTestId("blocker")).toHaveCount(0);
  await expect(tl.getByTestId("timeline")).toContainText(
    `${lee.name} resolved the blocker: Need write access to the payments database. DBA granted access for 24 hours`,
  );

  // The leadership view shows the incident with its IC and open roles.
  await expect(leader.getByTestId("board-incident").filter({ hasText: "Primary region is failing" })).toContainText(
    admin.name,
  );
  expect(errors).toEqual([]);
  await Promise.all(contexts.map((c) => c.close()));
});

test("an observer reads the war room but writes only after the IC adds them", async ({ browser, request }) => {
  await ensureAdmin(request);
  const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
  const [ic, observer]: Page[] = await Promise.all(contexts.map((c) => c.newPage()));
  await signIn(ic, admin.email, admin.password);
  const obi = { name: "Obi Observer", email: "obi@example.com" };
  const password = await createUser(ic, obi.name, obi.email, "responder");
  await ic.goto("/");
  await hydrated(ic);
  await ic.getByLabel("Title").fill("Search is slow");
  await ic.getByRole("button", { name: "Declare and open the war room" }).click();
  await expect(ic).toHaveURL(/\/incidents\/\d+$/);
  const warRoom = ic.url();

  await signIn(observer, obi.email, password);
  await observer.goto(warRoom);
  await hydrated(observer);
  await expect(observer.getByTestId("observing")).toBeVisible();
  await expect(observer.locator("#note-input")).toHaveCount(0);
  await observer.getByLabel("Your question for the Comms Lead").fill("Is search down for everyone?");
  await observer.getByRole("button", { name: "Ask" }).click();
  await expect(observer.getByTestId("observing")).toContainText("Asked.");

  await hydrated(ic);
  await ic.locator("#add-responder").selectOption({ label: obi.name });
  await ic.getByRole("button", { name: "Add responder" }).click();
  await expect(observer.getByTestId("observing")).toHaveCount(0);
  await expect(observer.locator("#note-input")).toBeVisible();
  await Promise.all(contexts.map((c) => c.close()));
});
