import { expect, request as http, test } from "@playwright/test";
import { admin, createUser, ensureAdmin, hydrated, signIn } from "./people";

test("a responder makes an API token, a script declares with it, and revoking it stops the script", async ({
  browser,
  request,
}) => {
  await ensureAdmin(request);
  const adminContext = await browser.newContext();
  const adminPage = await adminContext.newPage();
  await signIn(adminPage, admin.email, admin.password);
  const password = await createUser(adminPage, "Tia Tokens", "tia@example.com", "responder");

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, "tia@example.com", password);
  // From the account page to the tokens page (served without script).
  await page.goto("/account");
  await hydrated(page);
  await page.getByRole("link", { name: "Manage API tokens" }).click();
  await expect(page).toHaveURL(/\/account\/tokens$/);
  await expect(page.getByTestId("no-tokens")).toBeVisible();
  await page.getByLabel("What will use it").fill("deploy bot");
  await page.getByLabel("Access").selectOption("write");
  await page.getByRole("button", { name: "Make a token" }).click();
  const secret = (await page.getByTestId("token-secret").innerText()).trim();
  expect(secret).toMatch(/^calmroom_[0-9a-f]{64}$/);
  const row = page.getByTestId("api-tokens").locator('li[data-token="deploy bot"]');
  await expect(row).toContainText("Read and write");
  await expect(row).toContainText("never used");

  // A script, with no cookie, declares an incident as Tia.
  const script = await http.newContext({
    baseURL: new URL(page.url()).origin,
    extraHTTPHeaders: { authorization: `Bearer ${secret}` },
  });
  const declared = await script.post("/api/v1/incidents", {
    data: { title: "Declared by the deploy bot", severity: "sev3" },
  });
  expect(declared.status()).toBe(201);
  const { number } = await declared.json();
  const incident = await (await script.get(`/api/v1/incidents/${number}`)).json();
  expect(incident.roles.find((r: { role: string }) => r.role === "ic")?.holder_name).toBe("Tia Tokens");

  // The admin sees it among everyone's, with its owner.
  await adminPage.goto("/account/tokens");
  await expect(adminPage.getByTestId("all-api-tokens").locator('li[data-token="deploy bot"]')).toContainText(
    "Tia Tokens",
  );
  await adminContext.close();

  // The secret is not shown again; its use is listed; revoking it stops the script at once.
  await page.goto("/account/tokens");
  await expect(page.getByTestId("token-secret")).toHaveCount(0);
  await expect(row).toContainText("last used");
  await row.getByRole("button", { name: "Revoke deploy bot" }).click();
  await expect(row).toContainText("revoked");
  expect((await script.get("/api/v1/me")).status()).toBe(401);
  await script.dispose();
  expect(errors).toEqual([]);
  await context.close();
});
