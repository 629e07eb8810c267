import { expect, test, type Page } from "@playwright/test";
import { admin, createUser, ensureAdmin, hydrated, signIn } from "./people";

// Kathmandu is 5 h 45 min ahead of UTC all year: every time it shows differs
// from the UTC one in its minutes, so a time that did not follow is caught.
const zone = "Asia/Kathmandu";
const shift = (5 * 60 + 45) * 60;

/// "14:05:09" moved by `seconds`, round the clock.
function moved(clock: string, seconds: number): string {
  const [h, m, s] = clock.split(":").map(Number);
  const total = (((h * 3600 + m * 60 + (s ?? 0) + seconds) % 86400) + 86400) % 86400;
  const parts = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  return parts
    .slice(0, clock.split(":").length)
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
}

/// Every time the war room shows: the timeline and decision log, and the times
/// written in its text ("since 14:05 UTC").
async function warRoomTimes(page: Page) {
  const listed = await page.locator('[data-testid="timeline"] time, [data-testid="decisions"] time').allInnerTexts();
  const text = await page.getByTestId("war-room").innerText();
  const labelled = [...text.matchAll(/\b(\d{2}:\d{2}) (UTC(?:[+-][\d:]+)?)/g)].map((m) => [m[1], m[2]]);
  return { listed, labelled, text };
}

for (const [device, width, height] of [
  ["laptop", 1440, 900],
  ["phone", 390, 844],
] as const) {
  test(`on a ${device}, a responder picks their zone and every time on the war room follows`, async ({ browser, request }) => {
    await ensureAdmin(request);
    const adminContext = await browser.newContext();
    const adminPage = await adminContext.newPage();
    await signIn(adminPage, admin.email, admin.password);
    const email = `zed-${device}@example.com`;
    const password = await createUser(adminPage, `Zed ${device}`, email, "responder");
    await adminContext.close();

    // The browser runs in Kathmandu; the account has chosen nothing yet.
    const context = await browser.newContext({ timezoneId: zone, viewport: { width, height } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await signIn(page, email, password);
    await hydrated(page);
    await page.getByLabel("Title").fill(`Zones on a ${device}`);
    await page.getByLabel("Severity").selectOption("sev3");
    await page.getByRole("button", { name: "Declare and open the war room" }).click();
    await expect(page).toHaveURL(/\/incidents\/\d+$/);
    const warRoom = page.url();
    await hydrated(page);
    await page.locator("body").press("d");
    await page.keyboard.type("Fail over to the standby");
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("decisions")).toContainText("Fail over to the standby");

    // Until a zone is chosen, times are in UTC and say so.
    const before = await warRoomTimes(page);
    expect(before.listed.length).toBeGreaterThanOrEqual(2);
    expect(before.labelled.length).toBeGreaterThanOrEqual(1);
    expect(before.labelled.every(([, label]) => label === "UTC")).toBe(true);
    await expect(page.getByTestId("war-room")).toContainText("times in UTC");

    // The account page offers the browser's zone; one click saves it.
    await page.getByTestId("user-name").click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByText(`Your browser is set to ${zone}`)).toBeVisible();
    await expect(page.getByLabel("Zone", { exact: true })).toHaveValue(zone);
    await expect(page.getByTestId("zone-now")).toContainText("Showing UTC: now");
    await page.getByRole("button", { name: "Save time zone" }).click();
    await expect(page.getByText(`Times now show in ${zone}.`)).toBeVisible();
    await expect(page.getByTestId("zone-now")).toContainText(`Showing ${zone} (UTC+5:45)`);
    await expect(page.getByText(`Your browser is set to`)).toHaveCount(0);

    // Back in the war room (in the browser, then as the server renders it
    // afresh) every time has moved by 5:45 and names the zone.
    for (const how of ["in the browser", "from the server"]) {
      if (how === "in the browser") {
        await page.goBack();
        await expect(page).toHaveURL(warRoom);
      } else {
        await page.goto(warRoom);
      }
      await hydrated(page);
      await expect(page.getByTestId("war-room")).toContainText(`times in ${zone}`);
      const after = await warRoomTimes(page);
      expect(after.listed, how).toEqual(before.listed.map((t) => moved(t, shift)));
      expect(after.labelled.map(([t]) => t).sort(), how).toEqual(before.labelled.map(([t]) => moved(t, shift)).sort());
      expect(after.labelled.every(([, label]) => label === "UTC+5:45"), how).toBe(true);
      expect(after.text, how).not.toMatch(/\d{2}:\d{2} UTC(?![+-])/);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
}
