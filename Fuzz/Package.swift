// swift-tools-version: 6.1
// libFuzzer targets for the parts of Conduit a peer reaches: the message decoder, the
// JSON content and the application's routing, the load tool's response matcher, and
// the framings (fixed, delimited, length-prefixed, RESP, until close), and the TLS glue.
// Their own package so the main build never needs the fuzzer runtime. Run:
// Fuzz/run.sh [SECONDS] [TARGET]. run.sh builds the whole graph with
// `--sanitize=fuzzer --sanitize=address` and
// `-sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table`, so the code under
// test is instrumented for coverage and AddressSanitizer, not only these harnesses
// (with the flags on a harness alone, libFuzzer saw 95 edges: its own).
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which is whatever the clone was
/// called ("main" here, something else in CI), so read it instead of spelling it.
let conduitPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

/// A fuzz target: an executable whose entry point hands over to libFuzzer.
func fuzzer(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: conduitPackage) },
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    )
}

let package = Package(
    name: "ConduitFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        fuzzer("DecoderFuzzer", ["ConduitMessage"]),
        fuzzer("ContentFuzzer", ["ConduitMessage", "ConduitApp"]),
        fuzzer("MatcherFuzzer", ["ConduitMessage", "ConduitApp", "ConduitLoad"]),
        fuzzer("FramingFuzzer", ["Conduit"]),
        fuzzer("TLSFuzzer", ["Conduit"]),
    ],
    swiftLanguageModes: [.v6]
)
