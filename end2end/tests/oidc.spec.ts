import { expect, test } from "@playwright/test";
import { hydrated } from "./people";

// The server of playwright.config.ts that signs people in through npm's
// oidc-provider (end2end/oidc/provider.mjs).
const app = `http://127.0.0.1:${process.env.CALMROOM_E2E_OIDC_APP_PORT ?? "3110"}`;

for (const width of [1440, 390]) {
  test(`company sign-in at ${width} px: through the provider, signed in with the mapped role, then signed out of both`, async ({
    browser,
  }) => {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const login = `ada-admin-${width}`;

    await page.goto(`${app}/sign-in`);
    await hydrated(page);
    await expect(page.getByLabel("Password")).toBeVisible();
    await page.getByRole("link", { name: "Sign in with Example SSO" }).click();

    // The provider's own login and consent pages.
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill("any password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();

    // Back, signed in as a new person, with the role the claim gave.
    await expect(page).toHaveURL(`${app}/`);
    await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
    await page.goto(`${app}/account`);
    await hydrated(page);
    // The provider's name claim names them; its role claim made them an admin.
    const banner = page.getByRole("banner");
    await expect(banner.getByRole("link", { name: `ada admin ${width}` })).toBeVisible();
    await expect(banner.locator(".user-role")).toHaveText("Admin");
    await page.goto(`${app}/admin/sign-in`);
    await expect(page.getByTestId("company-sign-in")).toContainText("You have signed in through it.");
    await expect(page.getByTestId("password-state")).toContainText("on");

    // Sign out here, then at the provider too.
    await page.goto(`${app}/`);
    await hydrated(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in\?signed-out/);
    await hydrated(page);
    const elsewhere = page.getByRole("link", { name: "Sign out of Example SSO too" });
    await expect(elsewhere).toBeVisible();
    await elsewhere.click();
    await page.getByRole("button", { name: "Yes, sign me out" }).click();
    await expect(page).toHaveURL(`${app}/sign-in`);
    await hydrated(page);
    await expect(page.getByRole("link", { name: "Sign in with Example SSO" })).toBeVisible();

    // Signed out at the provider: signing in asks for the login again.
    await page.getByRole("link", { name: "Sign in with Example SSO" }).click();
    await expect(page.locator('input[name="login"]')).toBeVisible();
    expect(errors).toEqual([]);
    await context.close();
  });
}
