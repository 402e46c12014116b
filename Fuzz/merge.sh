#!/usr/bin/env bash
# Refreshes the corpus kept in the repository: `Fuzz/merge.sh [TARGET]` (default: every
# target) minimizes the union of Fuzz/corpus/TARGET, what the last runs found
# (Fuzz/.build-fuzz/corpus/TARGET) and the seeds into a new Fuzz/corpus/TARGET: few
# inputs (each at most run.sh's -max_len) that keep every feature any of them covers.
# libFuzzer's `-set_cover_merge=1` (a greedy set cover) keeps about half as many inputs
# as `-merge=1` for the same features. Run it after a long fuzzing run and commit the
# result, so that CI's short run starts where the long one ended.
set -euo pipefail
which=${1:-all}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
# shellcheck source=Fuzz/targets.sh
source "$here/targets.sh"
select_targets "$which"
build_fuzzers
for target in "${selected[@]}"; do
    binary=$(fuzz_binary "$target")
    merged=$(mktemp -d)
    mkdir -p "$here/corpus/$target" "$here/.build-fuzz/corpus/$target" "$here/seeds/$target"
    "$binary" -set_cover_merge=1 -max_len="$(fuzz_max_len "$target")" "$merged" "$here/corpus/$target" \
        "$here/.build-fuzz/corpus/$target" "$here/seeds/$target" $(fuzz_extra_inputs "$target") \
        >"$here/.build-fuzz/merge-$target.log" 2>&1 || { tail -20 "$here/.build-fuzz/merge-$target.log"; exit 1; }
    rm -rf "$here/corpus/$target"
    mv "$merged" "$here/corpus/$target"
    chmod 755 "$here/corpus/$target"
    echo "$target: $(ls "$here/corpus/$target" | wc -l) inputs, $(du -sk "$here/corpus/$target" | cut -f1) KiB"
done
