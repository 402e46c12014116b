# The fuzz targets and how to build them; sourced by run.sh and merge.sh.
targets=(decoder content matcher framing tls)

# Sets `selected` to the targets `$1` names: `all`, or one target (exit 64 otherwise).
select_targets() {
    case "$1" in
        all) selected=("${targets[@]}") ;;
        *)
            fuzz_product "$1" >/dev/null || { echo "unknown target '$1' (${targets[*]} or all)"; exit 64; }
            selected=("$1")
            ;;
    esac
}

# The executable for a target name.
fuzz_product() {
    case "$1" in
        decoder) echo DecoderFuzzer ;;
        content) echo ContentFuzzer ;;
        matcher) echo MatcherFuzzer ;;
        framing) echo FramingFuzzer ;;
        tls) echo TLSFuzzer ;;
        *) return 1 ;;
    esac
}

# Longest input: decoder and content inputs hold a header of up to 4 KiB; the matcher
# feeds each input five times and copies incomplete messages, so shorter is faster.
fuzz_max_len() {
    case "$1" in
        matcher | framing | tls) echo 2048 ;;
        *) echo 4096 ;;
    esac
}

# Further read-only inputs: JSONTestSuite's parsing files for the content target.
fuzz_extra_inputs() {
    if [ "$1" = content ]; then echo "$here/../Tests/Fixtures/JSONTestSuite/test_parsing"; fi
}

fuzz_flags=(--sanitize=fuzzer --sanitize=address
    -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table --scratch-path "$here/.build-fuzz")

# Builds every target, instrumented as a whole graph (the code under test too).
build_fuzzers() {
    mkdir -p "$here/.build-fuzz"
    # SwiftPM keeps its plan of a path dependency until this manifest changes, so a
    # source file added to the main package would not be seen: re-plan every time.
    touch "$here/Package.swift"
    if ! swift build "${fuzz_flags[@]}" >"$here/.build-fuzz/build.log" 2>&1; then
        grep -E "error" "$here/.build-fuzz/build.log" | head -20
        echo "building the fuzzers failed"
        exit 1
    fi
}

fuzz_binary() {
    echo "$(swift build "${fuzz_flags[@]}" --show-bin-path)/$(fuzz_product "$1")"
}
