#!/usr/bin/env bash
# The whole test suite: formatting, clippy on the server and browser builds, unit, store
# and server tests on SQLite and PostgreSQL; on the debug build, Playwright journeys in
# headless Chromium, the real alert senders (Prometheus Alertmanager, PyPI's pagerduty
# client), subscription mail through a real SMTP server (PyPI's aiosmtpd) and the API
# against its OpenAPI document (PyPI's openapi-spec-validator and schemathesis); and a
# hydration check of every page on the release build.
source "$(dirname "$0")/lib.sh"
cd "$CALMROOM_ROOT"
install_build_tools
install_e2e_tools
install_alert_senders
ensure_postgres

say "cargo fmt --check"
cargo fmt --all -- --check

say "clippy: server (ssr) build"
cargo clippy -p app -p server --features app/ssr --all-targets -- -D warnings
say "clippy: browser (hydrate) build"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

say "unit, store and server tests (SQLite and PostgreSQL)"
# A stuck test fails the run after 20 minutes instead of holding CI until its limit.
timeout 1200 cargo test -p app --features ssr
# Server tests one at a time: rendering pages through leptos_axum from several test
# runtimes at once now and then never answered (docs/developing.md).
timeout 1200 cargo test -p server -- --test-threads=1

say "building the app for the browser journeys"
build_debug

say "Playwright journeys in headless Chromium"
(cd end2end && npx playwright test)

say "real alert senders: Prometheus Alertmanager and the pagerduty client"
bash end2end/senders/run.sh
say "subscription mail through a real SMTP server (aiosmtpd)"
target/senders-venv/bin/python end2end/senders/mail.py target/debug/server target/site
say "/api/v1 against its OpenAPI document (openapi-spec-validator, schemathesis)"
bash end2end/api/run.sh

# What people get from scripts/run.sh: every page must hydrate in the release
# build too (wasm-opt and wasm-release settings can break what debug shows working).
say "building the release app"
build_release
say "every page hydrates in the release build"
(cd end2end && CALMROOM_E2E_PROFILE=release npx playwright test hydration.spec.ts)
say "all tests passed"
