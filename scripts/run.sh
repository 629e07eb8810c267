#!/usr/bin/env bash
# Installs the build tools, builds Calmroom (release) and serves it on http://127.0.0.1:3000
# with an embedded SQLite database in ./data. Configuration: see README.md or `--help`.
source "$(dirname "$0")/lib.sh"
cd "$CALMROOM_ROOT"
install_build_tools
# --precompress leaves brotli and gzip copies of the bundle beside it, which the
# server sends as they are (no compression work at start or per request).
say "building Calmroom (release)"
cargo leptos build --release --precompress
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
say "starting Calmroom"
exec target/release/server "$@"
