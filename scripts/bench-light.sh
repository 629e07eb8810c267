#!/usr/bin/env bash
# The light-client benchmark (prints figures, asserts nothing): cold start,
# server memory around a burst of sign-ins, the bundle each page loads, the
# war room on an emulated slow phone, and the public routes under wrk beside
# nginx serving the same bytes. Builds the release app; installs nginx and wrk
# when missing. Not part of the test command.
source "$(dirname "$0")/lib.sh"
cd "$CALMROOM_ROOT"
install_build_tools
install_e2e_tools
command -v wrk >/dev/null || apt_install wrk
command -v nginx >/dev/null || apt_install nginx
command -v curl >/dev/null || apt_install curl
ulimit -n 65536 2>/dev/null || true
say "building the release app"
build_release
ls -l target/release/server target/site/pkg
nginx_root="$(mktemp -d)"
chmod 755 "$nginx_root"   # nginx's workers run as www-data
trap 'rm -rf "$nginx_root"' EXIT
say "light client"
NODE_PATH=end2end/node_modules node end2end/light-bench.mjs http://127.0.0.1:3330 "$nginx_root"
