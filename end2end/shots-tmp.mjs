// Screenshots of the account page (with a token just made and one listed) and the admin users page.
import { chromium } from "@playwright/test";
const base = process.argv[2];
const out = process.argv[3];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
for (const [name, width, height] of [["laptop", 1440, 900], ["phone", 390, 844]]) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  await page.goto(base + "/sign-in");
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.getByLabel("E-mail").fill("ada@example.com");
  await page.getByLabel("Password").fill("calm under pressure");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.goto(base + "/account");
  await page.locator("body[data-hydrated=true]").waitFor();
  const panel = page.getByTestId("api-tokens");
  await panel.getByLabel("What will use it").fill(`deploy bot ${name}`);
  await panel.getByLabel("Access").selectOption("write");
  await panel.getByRole("button", { name: "Make a token" }).click();
  await panel.getByTestId("token-secret").waitFor();
  await page.waitForTimeout(500);
  await panel.screenshot({ path: `${out}/account-tokens-${name}.png` });
  await page.screenshot({ path: `${out}/account-${name}.png`, fullPage: true });
  await page.goto(base + "/admin/users");
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.getByTestId("all-api-tokens").waitFor();
  await page.waitForTimeout(500);
  await page.getByTestId("all-api-tokens").screenshot({ path: `${out}/admin-tokens-${name}.png` });
  await page.goto(base + "/api/v1");
  await page.screenshot({ path: `${out}/reference-${name}.png` });
  await context.close();
}
await browser.close();
