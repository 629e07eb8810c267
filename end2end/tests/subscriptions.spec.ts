import { expect, test, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { admin, ensureAdmin } from "./people";

// The mail server the e2e server sends through (playwright.config.ts) keeps
// every message in this Maildir.
const maildir = path.join(process.env.CALMROOM_E2E_DATA_DIR ?? "", "maildir", "new");

/// The body of the newest mail to `to`, waiting for it; quoted-printable undone.
async function mailTo(to: string, since: number): Promise<string> {
  let found = "";
  await expect
    .poll(
      () => {
        if (!fs.existsSync(maildir)) return "";
        const files = fs
          .readdirSync(maildir)
          .map((name) => path.join(maildir, name))
          .filter((file) => fs.statSync(file).mtimeMs >= since)
          .map((file) => fs.readFileSync(file, "utf8"))
          .filter((text) => text.includes(`To: ${to}`));
        found = files.pop() ?? "";
        return found;
      },
      { timeout: 30_000, message: `a mail to ${to}` },
    )
    .not.toBe("");
  return found.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

async function fitsTheScreen(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

for (const [device, width, height] of [
  ["laptop", 1440, 900],
  ["phone", 390, 844],
] as const) {
  test(`a reader subscribes by e-mail, confirms from the mail, chooses components and unsubscribes (${device})`, async ({
    browser,
    request,
  }) => {
    await ensureAdmin(request);
    const admins = await request.post("/api/sign_in", { form: { email: admin.email, password: admin.password } });
    expect(admins.status()).toBe(200);
    const component = `Checkout ${device}`;
    const added = await request.post("/api/add_component", { form: { name: component, group_name: "", description: "" } });
    expect(added.status()).toBe(200);

    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const reader = `reader-${device}@example.com`;
    const since = Date.now() - 1000;

    // The public page is rebuilt in the background after a change.
    await expect
      .poll(async () => {
        await page.goto("/status");
        return page.getByLabel(component).count();
      })
      .toBe(1);
    await expect(page.getByRole("heading", { name: "Get updates by e-mail" })).toBeVisible();
    await fitsTheScreen(page);
    await page.getByLabel("E-mail address").fill("not an address");
    await page.getByLabel("E-mail address").evaluate((input: HTMLInputElement) => (input.type = "text"));
    await page.getByRole("button", { name: "Subscribe" }).click();
    await expect(page.locator("#subscribe-error")).toContainText("name@example.com");
    await page.getByLabel("E-mail address").fill(reader);
    await page.getByLabel(component).check();
    await page.getByRole("button", { name: "Subscribe" }).click();
    await expect(page.getByRole("heading", { name: "Check your inbox" })).toBeVisible();
    await expect(page.locator("main")).toContainText(reader);

    const confirmation = await mailTo(reader, since);
    const link = confirmation.match(/https?:\/\/\S+\/status\/subscription\/confirm\?token=[0-9a-f]{64}/);
    expect(link, confirmation).not.toBeNull();
    await page.goto(new URL(link![0]).pathname + new URL(link![0]).search);
    await fitsTheScreen(page);
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect(page.getByRole("heading", { name: "You are subscribed" })).toBeVisible();

    await page.getByRole("link", { name: "Choose what you follow" }).click();
    await expect(page.getByRole("heading", { name: "Your subscription" })).toBeVisible();
    await expect(page.locator("main")).toContainText(reader);
    await expect(page.getByLabel(component)).toBeChecked();
    await fitsTheScreen(page);
    await page.getByLabel(component).uncheck();
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("status")).toHaveText("Saved.");
    await expect(page.getByLabel(component)).not.toBeChecked();

    await page.getByRole("button", { name: "Unsubscribe from all mail" }).click();
    await expect(page.getByRole("heading", { name: "You are unsubscribed" })).toBeVisible();
    expect(errors).toEqual([]);
    await context.close();
  });
}
