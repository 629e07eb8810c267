#!/usr/bin/env bash
# Installs the build tools, builds Calmroom (release) and serves it on http://127.0.0.1:3000
# with an embedded SQLite database in ./data. Configuration: see README.md or `--help`.
source "$(dirname "$0")/lib.sh"
cd "$CALMROOM_ROOT"
install_build_tools
say "building Calmroom (release)"
build_release
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
say "starting Calmroom"
exec target/release/server "$@"
