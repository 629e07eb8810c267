import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// A fresh server on its own port and a temporary SQLite file, started and
// stopped by Playwright. Built beforehand by `cargo leptos build`.
const port = process.env.CALMROOM_E2E_PORT ?? "3107";
const baseURL = `http://127.0.0.1:${port}`;
const profile = process.env.CALMROOM_E2E_PROFILE ?? "debug";

// The config is loaded by the runner and by each worker; only the runner starts the server.
process.env.CALMROOM_E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "calmroom-e2e-"));

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? "line" : "list",
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `target/${profile}/server`,
    cwd: "..",
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      CALMROOM_BIND: `127.0.0.1:${port}`,
      CALMROOM_DATA_DIR: process.env.CALMROOM_E2E_DATA_DIR,
      CALMROOM_LOG: "warn",
      LEPTOS_SITE_ROOT: "target/site",
    },
  },
});
