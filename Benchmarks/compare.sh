#!/usr/bin/env bash
# Issue 11's comparison harness: Conduit's servers against minimal C servers (the floor)
# and SwiftNIO servers (the peer), each alone on core 0 under the minimal C load generator
# (Benchmarks/C/load_generator) on core 1, one markdown table on stdout (median of
# --repeats runs; progress on stderr). Rows whose generator core was above 90 % busy are
# marked: they measure the generator.
#
# usage: Benchmarks/compare.sh [--no-build] [--connections 100,1000] [--duration 5]
#                              [--repeats 3] [--pipeline 1,16] [--workloads echo,search]
#                              [--size 64] [--generator c|conduit] [--only PARTS]
# Everything but --no-build goes to scripts/compare_servers.py (see its --help).
#
# Builds (release): `conduit` at the root, NIOEchoServer and NIOAppServer in Benchmarks,
# the C servers with `cc -O2` (Benchmarks/C/Makefile). Every build and the measuring run
# hold the lock file $CONDUIT_LOCK (default /tmp/conduit-build.lock) through flock(1), so
# that on a shared machine nobody else builds or measures meanwhile; CONDUIT_LOCK= (empty)
# runs without it. Do not run this script itself under the same lock: it would wait for
# itself.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=${CONDUIT_LOCK-/tmp/conduit-build.lock}
locked() {
    if [ -n "$lock" ]; then flock "$lock" "$@"; else "$@"; fi
}

build=1
passed=()
for argument in "$@"; do
    if [ "$argument" = "--no-build" ]; then build=0; else passed+=("$argument"); fi
done

# Build logs go to stderr: stdout is the table alone.
if [ "$build" = 1 ]; then
    locked swift build -c release --product conduit >&2
    (cd Benchmarks && locked swift build -c release --product NIOEchoServer \
        && locked swift build -c release --product NIOAppServer) >&2
    locked make -C Benchmarks/C CC=cc CFLAGS="-O2 -Wall -Wextra" >&2
fi

locked python3 Benchmarks/scripts/compare_servers.py "${passed[@]+"${passed[@]}"}"
