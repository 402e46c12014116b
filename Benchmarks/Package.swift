// swift-tools-version: 6.1
// Benchmarks live in their own package so that users of Conduit never build them.
// Run from this folder: swift package benchmark
import PackageDescription

let package = Package(
    name: "ConduitBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Transport",
            dependencies: [
                .product(name: "Conduit", package: "main"),
                .product(name: "ConduitMessage", package: "main"),
                .product(name: "ConduitApp", package: "main"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Transport",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
