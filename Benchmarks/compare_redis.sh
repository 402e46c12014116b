#!/usr/bin/env bash
# Issue 19's comparison: `conduit load` against redis-benchmark, both loading one
# redis-server (pinned to core 0; each generator to core 1), one markdown table on stdout:
# requests/s and generator CPU per request for PING_INLINE, GET and SET at each
# connection count and pipeline depth, then conduit's CPU per request on RESP against
# its own app workload and with a weighted, templated scenario.
#
# usage: Benchmarks/compare_redis.sh [--no-build] [--connections 100,1000]
#                                    [--pipelines 1,16] [--seconds 4] [--repeats 3]
# Everything but --no-build goes to scripts/compare_redis.py. Needs redis-server and
# redis-benchmark (Debian: redis-server, redis-tools). The build and the run hold the
# lock file $CONDUIT_LOCK (default /tmp/conduit-build.lock), as compare.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=${CONDUIT_LOCK-/tmp/conduit-build.lock}
locked() {
    if [ -n "$lock" ]; then flock "$lock" "$@"; else "$@"; fi
}

command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null \
    || { echo "needs redis-server and redis-benchmark: apt-get install redis-server redis-tools" >&2; exit 1; }

build=1
passed=()
for argument in "$@"; do
    if [ "$argument" = "--no-build" ]; then build=0; else passed+=("$argument"); fi
done
if [ "$build" = 1 ]; then locked swift build -c release --product conduit >&2; fi
locked python3 Benchmarks/scripts/compare_redis.py --conduit .build/release/conduit "${passed[@]+"${passed[@]}"}"
