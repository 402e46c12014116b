// swift-tools-version: 6.1
// libFuzzer target for the message decoder. Its own package so the main build never
// needs the fuzzer runtime. Run: Fuzz/run.sh SECONDS
import PackageDescription

let package = Package(
    name: "ConduitFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "DecoderFuzzer",
            dependencies: [.product(name: "ConduitMessage", package: "main")],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
