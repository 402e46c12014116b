#!/usr/bin/env bash
# Fuzzes Conduit with libFuzzer: usage `Fuzz/run.sh [SECONDS] [TARGET]`.
#
# TARGET is one of
#   decoder   the message decoder (proto header, JSON header, content framing)
#   content   JSON content through the parser and writer, and the app's router
#   matcher   the load tool's response matcher (exact and semantic comparison)
#   framing   the framings: fixed, delimited, length-prefixed, RESP, until close
#   all       every target in turn (the default)
# SECONDS (default 60) is per target: `all` takes 4 × SECONDS. CI runs `Fuzz/run.sh 20`,
# 80 s in all.
#
# Each target starts from its seeds (Fuzz/seeds/TARGET, hand-written), its corpus kept
# in the repository (Fuzz/corpus/TARGET, minimized with `Fuzz/merge.sh`) and its
# regressions (Fuzz/regressions/TARGET); the content target also reads JSONTestSuite's
# files. New inputs go to Fuzz/.build-fuzz/corpus/TARGET, never into the repository.
# For each target it prints the executions and the coverage of the instrumented code:
# edges (cov), features (ft) and corpus size. A crash or a broken invariant leaves its input in Fuzz/artifacts/ and
# exits non-zero; minimize it (`-minimize_crash=1`), keep it in Fuzz/regressions/TARGET
# and turn it into a regression test in Tests/.
set -euo pipefail
seconds=${1:-60}
which=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
# shellcheck source=Fuzz/targets.sh
source "$here/targets.sh"
select_targets "$which"
build_fuzzers
status=0
for target in "${selected[@]}"; do
    binary=$(fuzz_binary "$target")
    work="$here/.build-fuzz/corpus/$target"
    mkdir -p "$work" "$here/artifacts" "$here/corpus/$target" "$here/seeds/$target" "$here/regressions/$target"
    log="$here/.build-fuzz/last-run-$target.log"
    echo "== $target: ${seconds}s"
    set +e
    # Read-only inputs after the first directory; libFuzzer writes new units to the first.
    "$binary" "$work" "$here/corpus/$target" "$here/seeds/$target" "$here/regressions/$target" \
        $(fuzz_extra_inputs "$target") \
        -max_total_time="$seconds" -max_len="$(fuzz_max_len "$target")" -print_final_stats=1 \
        -artifact_prefix="$here/artifacts/$target-" >"$log" 2>&1
    result=$?
    set -e
    grep -E "stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY" "$log" || true
    # Coverage of the instrumented code under test: edges (cov), features (ft), corpus size.
    grep -E "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)" "$log" | tail -1 \
        | grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+" || true
    if [ $result -ne 0 ]; then
        tail -40 "$log"
        echo "fuzzing $target found a problem (exit $result); inputs are in Fuzz/artifacts/"
        status=$result
    fi
done
[ $status -eq 0 ] && echo "fuzzed ${selected[*]} for ${seconds}s each without a crash"
exit $status
