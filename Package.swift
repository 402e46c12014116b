// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Conduit",
    products: [
        .library(name: "Conduit", targets: ["Conduit"]),
        .library(name: "ConduitMessage", targets: ["ConduitMessage"]),
        .library(name: "ConduitApp", targets: ["ConduitApp"]),
        .library(name: "ConduitLoad", targets: ["ConduitLoad"]),
        // Servers as swift-service-lifecycle services; its own product so that the core
        // (Conduit, ConduitMessage) depends on nothing.
        .library(name: "ConduitServiceLifecycle", targets: ["ConduitServiceLifecycle"]),
        // Conduit's counters through swift-metrics, as a service; optional like the above.
        .library(name: "ConduitMetrics", targets: ["ConduitMetrics"]),
        .executable(name: "conduit", targets: ["conduit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "CShim",
            dependencies: ["COpenSSL"],
            path: "CShim",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // OpenSSL 3 for TLS; only the shim's cshim_tls.c includes it.
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "Conduit", dependencies: ["CShim"]),
        .target(name: "ConduitMessage"),
        .target(
            name: "ConduitApp",
            dependencies: ["ConduitMessage", "Conduit", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "ConduitMetrics",
            dependencies: [
                "Conduit", "ConduitApp",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .target(
            name: "ConduitServiceLifecycle",
            dependencies: [
                "Conduit", "ConduitApp",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The tutorial's own programs as library code: echo handler and exchange, the
        // multi-connection client, the buffer-filling client socket, the socket table.
        .target(name: "ConduitTutorial", dependencies: ["Conduit", "ConduitApp", "ConduitMessage"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "ConduitLoad",
            dependencies: [
                "ConduitApp", "ConduitMessage", "Conduit", "ConduitTutorial", "CZlib",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "conduit",
            dependencies: [
                "Conduit", "ConduitMessage", "ConduitApp", "ConduitLoad", "ConduitTutorial", "CShim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(name: "ConduitTestSupport", dependencies: ["Conduit"], path: "Tests/ConduitTestSupport"),
        .testTarget(name: "ConduitTests", dependencies: ["Conduit", "ConduitTutorial", "ConduitTestSupport"]),
        .testTarget(name: "ConduitMessageTests", dependencies: ["ConduitMessage", "ConduitTestSupport"]),
        .testTarget(
            name: "ConduitAppTests",
            dependencies: ["ConduitApp", "ConduitMessage", "Conduit", "ConduitTutorial", "ConduitTestSupport"]),
        .testTarget(name: "ConduitLoadTests", dependencies: ["ConduitLoad", "ConduitTutorial", "ConduitTestSupport"]),
        .testTarget(
            name: "ConduitServiceLifecycleTests",
            dependencies: [
                "ConduitServiceLifecycle", "ConduitMetrics", "ConduitApp", "Conduit", "ConduitMessage", "ConduitTestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "EndToEndTests", dependencies: ["conduit", "Conduit", "ConduitTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
