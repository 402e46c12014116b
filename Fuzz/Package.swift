// swift-tools-version: 6.1
// libFuzzer target for the message decoder. Its own package so the main build never
// needs the fuzzer runtime. Run: Fuzz/run.sh SECONDS. run.sh builds the whole graph
// with `--sanitize=fuzzer --sanitize=address` and
// `-sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table`, so the code under
// test (ConduitMessage) is instrumented for coverage and AddressSanitizer, not only this
// harness (with the flags on the harness alone, libFuzzer saw 95 edges: its own).
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which is whatever the clone was
/// called ("main" here, something else in CI), so read it instead of spelling it.
let conduitPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "ConduitFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "DecoderFuzzer",
            dependencies: [.product(name: "ConduitMessage", package: conduitPackage)],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
