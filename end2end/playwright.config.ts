import { defineConfig } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// A fresh server on its own port and a temporary SQLite file, started and
// stopped by Playwright. Built beforehand by `build_debug` or `build_release` (scripts/lib.sh).
const port = process.env.CALMROOM_E2E_PORT ?? "3107";
const baseURL = `http://127.0.0.1:${port}`;
const profile = process.env.CALMROOM_E2E_PROFILE ?? "debug";
const smtpPort = process.env.CALMROOM_E2E_SMTP_PORT ?? "2527";
const oidcPort = process.env.CALMROOM_E2E_OIDC_PORT ?? "3111";
const oidcAppPort = process.env.CALMROOM_E2E_OIDC_APP_PORT ?? "3110";
const oidcAppURL = `http://127.0.0.1:${oidcAppPort}`;

// The config is loaded by the runner and by each worker; only the runner starts the server.
process.env.CALMROOM_E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "calmroom-e2e-"));

// Two replicas on one PostgreSQL database of their own (replicas.spec.ts), when
// the test command provides PostgreSQL. Replica B starts once A has migrated.
const postgres = process.env.CALMROOM_TEST_POSTGRES_URL;
const replicaPorts = ["3108", "3109"];
if (postgres && !process.env.CALMROOM_E2E_PG_URL) {
  const name = `calmroom_test_e2e_${process.pid}_${Date.now()}`;
  execFileSync("psql", [postgres, "-qc", `CREATE DATABASE ${name}`]);
  process.env.CALMROOM_E2E_PG_URL = postgres.replace(/\/[^/]*$/, `/${name}`);
}
const pgUrl = process.env.CALMROOM_E2E_PG_URL;
const replicas = pgUrl
  ? replicaPorts.map((replicaPort, i) => ({
      command:
        i === 0
          ? `target/${profile}/server`
          : `bash -c 'until curl -sf http://127.0.0.1:${replicaPorts[0]}/healthz >/dev/null; do sleep 0.2; done; exec target/${profile}/server'`,
      cwd: "..",
      url: `http://127.0.0.1:${replicaPort}/healthz`,
      reuseExistingServer: false,
      timeout: 90_000,
      stdout: "pipe" as const,
      stderr: "pipe" as const,
      env: {
        CALMROOM_BIND: `127.0.0.1:${replicaPort}`,
        CALMROOM_DATABASE_URL: pgUrl,
        // B names its listener's URL, as a deployment behind a pooling proxy would.
        ...(i === 1 ? { CALMROOM_LISTEN_DATABASE_URL: pgUrl } : {}),
        CALMROOM_LOG: "warn",
        LEPTOS_SITE_ROOT: "target/site",
      },
    }))
  : [];

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
  webServer: [
    {
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
      CALMROOM_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      CALMROOM_MAIL_FROM: "Example status <status@example.com>",
    },
    },
    // A real SMTP server (PyPI's aiosmtpd, installed by the test command) that
    // keeps every mail in a Maildir the subscription journey reads.
    {
      command: `target/senders-venv/bin/python -m aiosmtpd -n -l 127.0.0.1:${smtpPort} -c aiosmtpd.handlers.Mailbox ${path.join(process.env.CALMROOM_E2E_DATA_DIR ?? os.tmpdir(), "maildir")}`,
      cwd: "..",
      port: Number(smtpPort),
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    ...replicas,
    // Company sign-in: npm's oidc-provider, and a server of its own that
    // signs people in through it (oidc.spec.ts).
    {
      command: "node oidc/provider.mjs",
      url: `http://127.0.0.1:${oidcPort}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "pipe",
      stderr: "pipe",
      env: { OIDC_PORT: oidcPort, CALMROOM_URL: oidcAppURL },
    },
    {
      command: `target/${profile}/server`,
      cwd: "..",
      url: `${oidcAppURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        CALMROOM_BIND: `127.0.0.1:${oidcAppPort}`,
        CALMROOM_BASE_URL: oidcAppURL,
        CALMROOM_DATA_DIR: path.join(process.env.CALMROOM_E2E_DATA_DIR ?? os.tmpdir(), "oidc"),
        CALMROOM_LOG: "warn",
        LEPTOS_SITE_ROOT: "target/site",
        CALMROOM_ADMIN_EMAIL: "root@example.com",
        CALMROOM_ADMIN_PASSWORD: "root password 123",
        CALMROOM_OIDC_ISSUER: `http://127.0.0.1:${oidcPort}`,
        CALMROOM_OIDC_CLIENT_ID: "calmroom",
        CALMROOM_OIDC_CLIENT_SECRET: "e2e client secret",
        CALMROOM_OIDC_SCOPES: "openid email profile calmroom",
        CALMROOM_OIDC_ROLE_CLAIM: "calmroom_role",
        CALMROOM_OIDC_NAME: "Example SSO",
      },
    },
  ],
});
