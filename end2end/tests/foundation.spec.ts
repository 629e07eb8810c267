import { expect, test, type Page } from "@playwright/test";
import { admin, hydrated } from "./people";

// One journey on one fresh instance, in order: each step builds on the one before.
test.describe.configure({ mode: "serial" });

const responder = { name: "Rob Responder", email: "rob@example.com", password: "" };

async function signIn(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await hydrated(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
}

test("the first visit creates the first admin, who lands on the dashboard", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await page.goto("/");
  await expect(page).toHaveURL(/\/setup$/);
  await hydrated(page);

  // Bad input is answered at the field that caused it.
  await page.getByLabel("Your name").fill(admin.name);
  await page.getByLabel("E-mail").fill(admin.email);
  await page.getByLabel("Password").fill("too short");
  await page.getByRole("button", { name: "Create admin account" }).click();
  await expect(page.locator("#password-error")).toHaveText("Use at least 12 characters.");

  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Create admin account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("user-name")).toHaveText(admin.name);
  await expect(page.getByRole("link", { name: "Admin", exact: true })).toBeVisible();

  // Setup is closed now, for the page and for the server function.
  await page.goto("/setup");
  await expect(page).toHaveURL(/\/$/);
  const again = await page.request.post("/api/create_first_admin", {
    form: { name: "Mallory", email: "m@example.com", password: "mallory password" },
  });
  expect(again.status()).toBe(403);
  expect(errors).toEqual([]);
});

test("signing out, a wrong password, then signing in", async ({ page }) => {
  await signIn(page, admin.email, admin.password);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await signOut(page);

  await signIn(page, admin.email, "not my password at all");
  await expect(page.getByRole("alert")).toHaveText("Wrong e-mail or password.");
  await expect(page).toHaveURL(/\/sign-in$/);

  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("user-name")).toHaveText(admin.name);
});

test("the admin creates a responder without a page reload", async ({ page }) => {
  await signIn(page, admin.email, admin.password);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await page.getByRole("link", { name: "Admin", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { calmMarker: number }).calmMarker = 1));

  await page.getByLabel("Name", { exact: true }).fill(responder.name);
  await page.getByLabel("E-mail").fill(responder.email);
  await page.getByLabel("Org role", { exact: true }).selectOption("responder");
  await page.getByRole("button", { name: "Add user" }).click();

  const shown = page.getByTestId("initial-password");
  await expect(shown).toContainText(responder.email);
  responder.password = (await shown.locator("code").textContent()) ?? "";
  expect(responder.password.length).toBeGreaterThanOrEqual(12);
  await expect(page.locator(`tr[data-email="${responder.email}"]`)).toContainText("Responder");
  // Still the same document: the form answered without a full reload.
  expect(await page.evaluate(() => (window as unknown as { calmMarker?: number }).calmMarker)).toBe(1);
});

test("the responder signs in and is refused the admin pages", async ({ page }) => {
  await signIn(page, responder.email, responder.password);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("user-name")).toHaveText(responder.name);
  await expect(page.getByRole("link", { name: "Admin", exact: true })).toHaveCount(0);

  const response = await page.goto("/admin/users");
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId("forbidden")).toContainText("Only admins can manage users.");
  await expect(page.getByText(admin.email)).toHaveCount(0);

  const list = await page.request.post("/api/list_users", { form: {} });
  expect(list.status()).toBe(403);
});

test("an admin resets the responder's password, who chooses a new one before anything else", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, admin.email, admin.password);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await page.goto("/admin/users");
  await hydrated(page);
  await page
    .locator(`tr[data-email="${responder.email}"]`)
    .getByRole("button", { name: "Reset password" })
    .click();
  const shown = page.getByTestId("reset-password");
  await expect(shown).toBeVisible();
  const temporary = (await shown.locator("code").textContent()) ?? "";
  expect(temporary.length).toBeGreaterThanOrEqual(12);
  await signOut(page);

  await signIn(page, responder.email, temporary);
  await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Incidents" })).toHaveCount(0);
  await hydrated(page);
  await page.getByLabel("Password from the admin").fill(temporary);
  await page.getByLabel("New password", { exact: true }).fill("rob's own password");
  await page.getByRole("button", { name: "Save the new password" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  responder.password = "rob's own password";

  // Later, from the account page, a wrong current password is answered at its field.
  await page.getByTestId("user-name").click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Current password", { exact: true }).fill("not it at all");
  await page.getByLabel("New password", { exact: true }).fill("another long password");
  await page.getByRole("button", { name: "Save the new password" }).click();
  await expect(page.locator("#current-error")).toHaveText("That is not your current password.");
  expect(errors).toEqual([]);
});
