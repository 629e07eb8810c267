# Shared set-up steps for scripts/run.sh and scripts/test.sh. Source it; do not run it.
# Every step checks first and installs only what is missing, so a second run is quick.

set -euo pipefail

CALMROOM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; return 1
  fi
}

apt_install() {
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
    || { as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; }
}

# The version of the wasm-bindgen crate in Cargo.lock; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$CALMROOM_ROOT/Cargo.lock"
}

# cargo-leptos, the wasm target, wasm-bindgen-cli and wasm-opt (binaryen from npm; Debian's breaks hydration).
install_build_tools() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v cargo >/dev/null; then
    echo "Rust is not installed: see https://rustup.rs" >&2; exit 1
  fi
  rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
    || { say "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 14 minutes, once)"
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
  fi
  local wb
  wb="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$wb"; then
    say "installing wasm-bindgen-cli $wb (about 3 minutes, once)"
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "$wb" --force
  fi
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -x "$CALMROOM_ROOT/tools/node_modules/.bin/wasm-opt" ]; then
    say "installing wasm-opt (binaryen from npm)"
    (cd "$CALMROOM_ROOT/tools" && npm ci --no-audit --no-fund)
  fi
  export PATH="$CALMROOM_ROOT/tools/node_modules/.bin:$PATH"
  # The same value cargo-leptos sets, so plain cargo commands reuse its build.
  export LEPTOS_OUTPUT_NAME=calmroom
}

# The release build people run: the server and the browser bundle both with
# Leptos's erase_components (every component type-erased, as debug builds of
# cargo-leptos do: the wasm shrinks from 3.5 MB to 2.4 MB), the screens in
# app/src/pages/on_demand.rs split into wasm files of their own (--split), and
# brotli copies of the bundle left beside it (--precompress) for the server to send.
# Both halves must be built with the same setting or hydration fails.
export CALMROOM_RELEASE_RUSTFLAGS="--cfg erase_components"
build_release() {
  RUSTFLAGS="$CALMROOM_RELEASE_RUSTFLAGS" cargo leptos build --release --split --precompress
}

# The debug build the browser journeys run. --split is not optional: a split
# point is a wasm import that only the splitter resolves.
build_debug() {
  cargo leptos build --split
}

# Chromium from Debian and Playwright from npm (never a browser download).
install_e2e_tools() {
  command -v chromium >/dev/null || apt_install chromium
  if [ ! -d "$CALMROOM_ROOT/end2end/node_modules/@playwright/test" ] \
    || [ ! -d "$CALMROOM_ROOT/end2end/node_modules/oidc-provider" ]; then
    say "installing Playwright (no browser download) and oidc-provider"
    (cd "$CALMROOM_ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

# The real senders and servers end2end/senders/ drives: Debian's Prometheus
# Alertmanager (with amtool), PyPI's pagerduty client and PyPI's aiosmtpd
# (a real SMTP server for the subscription mail); and for end2end/api/,
# PyPI's openapi-spec-validator and schemathesis; in a venv of their own.
install_alert_senders() {
  command -v prometheus-alertmanager >/dev/null && command -v amtool >/dev/null \
    || apt_install prometheus-alertmanager
  local venv="$CALMROOM_ROOT/target/senders-venv"
  if ! "$venv/bin/python" -c 'import pagerduty, aiosmtpd, openapi_spec_validator, schemathesis' 2>/dev/null; then
    say "installing the pagerduty client, the aiosmtpd mail server, openapi-spec-validator and schemathesis (PyPI) for the sender and API tests"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check pagerduty==7.2.0 aiosmtpd==1.4.6 \
      openapi-spec-validator==0.9.0 schemathesis==4.32.5
  fi
}

# PostgreSQL on 127.0.0.1:5432 for the store and server tests: installed, started,
# and reachable as user postgres. Exports CALMROOM_TEST_POSTGRES_URL.
ensure_postgres() {
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
  export CALMROOM_TEST_POSTGRES_URL="${CALMROOM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  if ! psql "$CALMROOM_TEST_POSTGRES_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    # A fresh Debian install asks for a password over TCP: give the test user one.
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    export CALMROOM_TEST_POSTGRES_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  fi
  # Forget databases left by earlier test runs.
  psql "$CALMROOM_TEST_POSTGRES_URL" -Atqc \
    "SELECT datname FROM pg_database WHERE datname LIKE 'calmroom\_test\_%'" |
    while read -r name; do psql "$CALMROOM_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$name\"" >/dev/null; done
}
