#!/usr/bin/env bash
# Issue 20's comparison: Conduit's TLS echo server against a minimal C server on OpenSSL
# (the floor) and SwiftNIO + NIOSSL (the peer), each alone on core 0 under
# `conduit load --tls-ca` on core 1; markdown tables on stdout, progress on stderr.
#
# usage: Benchmarks/compare_tls.sh [--no-build] [--connections 100,1000] [--duration 5]
#                                  [--repeats 3] [--figures echo,handshakes,memory]
#                                  [--idle-connections 10000] [--only '(shim)']
# Everything but --no-build goes to scripts/compare_tls.py (see its --help). Builds
# hold the lock file $CONDUIT_LOCK as compare.sh does.
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

if [ "$build" = 1 ]; then
    locked swift build -c release --product conduit >&2
    (cd Benchmarks && locked swift build -c release --product NIOSSLEchoServer) >&2
    locked make -C Benchmarks/C CC=cc CFLAGS="-O2 -Wall -Wextra" tls_echo_server >&2
fi

locked python3 Benchmarks/scripts/compare_tls.py "${passed[@]+"${passed[@]}"}"
