import { expect, type APIRequestContext, type Page } from "@playwright/test";

export const admin = { name: "Ada Admin", email: "ada@example.com", password: "calm under pressure" };

/// Waits for the browser to take over the page. A fresh browser fetches and
/// compiles the debug bundle (megabytes) first: on a busy 2-core machine that
/// alone has taken more than the default 10 s.
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true", { timeout: 30_000 });
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await hydrated(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
}

/// Makes sure the first admin exists (when this file runs on its own).
export async function ensureAdmin(request: APIRequestContext) {
  await request.post("/api/create_first_admin", {
    form: { name: admin.name, email: admin.email, password: admin.password },
  });
}

/// Creates a user as the signed-in admin of `page`; returns the initial password.
export async function createUser(page: Page, name: string, email: string, orgRole: string) {
  const reply = await page.request.post("/api/create_user", {
    form: { name, email, org_role: orgRole },
  });
  expect(reply.status()).toBe(200);
  return (await reply.json()).initial_password as string;
}
