#!/usr/bin/env bash
# Benchmarks (they print figures and assert nothing): the war-room render and live
# fan-out, the public status page and JSON under wrk beside a static file of
# the same size, the reliability run, then the light-client run (scripts/bench-light.sh).
# Installs wrk when missing. Not part of the test command.
source "$(dirname "$0")/lib.sh"
cd "$CALMROOM_ROOT"
command -v wrk >/dev/null || apt_install wrk
# The benchmarks measure the server as build_release makes it.
export RUSTFLAGS="$CALMROOM_RELEASE_RUSTFLAGS"
# A thousand open war rooms need a few thousand sockets.
ulimit -n 65536 2>/dev/null || true
say "war room: 1,000 open war rooms of a 300-entry incident"
CALMROOM_BENCH_ENTRIES=300 CALMROOM_BENCH_CLIENTS=1000 cargo bench -p server --bench war_room
say "war room: 200 open war rooms of a 5,000-entry incident"
CALMROOM_BENCH_ENTRIES=5000 CALMROOM_BENCH_CLIENTS=200 cargo bench -p server --bench war_room
say "public status page and Statuspage JSON under load"
cargo bench -p server --bench status
say "reliability: public page under a storm, SIGKILL during writes, sign-in bursts"
cargo bench -p server --bench reliability
say "light client: cold start, memory, bundle per page, slow phone, public routes beside nginx"
bash scripts/bench-light.sh
