#!/usr/bin/env bash
# Fuzzes the message decoder with libFuzzer for SECONDS (default 60) and prints the
# number of executions. Seeds: Fuzz/seeds (the PROTOCOL.md vectors and edge cases).
# A crash or a broken invariant leaves its input in Fuzz/artifacts/ and exits non-zero;
# turn it into a regression test in Tests/ConduitMessageTests/FuzzRegressionTests.swift.
set -euo pipefail
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
mkdir -p "$here/.build-fuzz"
if ! swift build --product DecoderFuzzer --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table --scratch-path "$here/.build-fuzz" >"$here/.build-fuzz/build.log" 2>&1; then
    grep -E "error" "$here/.build-fuzz/build.log" | head -20
    echo "building the fuzzer failed"
    exit 1
fi
binary=$(swift build --product DecoderFuzzer --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table --scratch-path "$here/.build-fuzz" --show-bin-path)/DecoderFuzzer
corpus="$here/.build-fuzz/corpus"
mkdir -p "$corpus" "$here/artifacts"
cp -n "$here"/seeds/* "$corpus"/ 2>/dev/null || true
log="$here/.build-fuzz/last-run.log"
set +e
"$binary" "$corpus" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$here/artifacts/" >"$log" 2>&1
status=$?
set -e
grep -E "stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY" "$log" || true
# Coverage of the instrumented code under test: edges (cov), features (ft), corpus size.
grep -E "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)" "$log" | tail -1 | grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+" || true
if [ $status -ne 0 ]; then
    tail -40 "$log"
    echo "fuzzing found a problem (exit $status); inputs are in Fuzz/artifacts/"
    exit $status
fi
echo "fuzzed for ${seconds}s without a crash"
