// swift-tools-version: 6.1
// Benchmarks live in their own package so that users of Conduit never build them.
// Run from this folder: swift package benchmark
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which is whatever the clone was
/// called ("main" here, something else in CI), so read it instead of spelling it.
let conduitPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "ConduitBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // The peer we measure against (only here, never in Conduit itself).
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        // TLS's peer: SwiftNIO with NIOSSL (BoringSSL), for compare_tls.sh.
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
    ],
    targets: [
        .executableTarget(
            name: "Transport",
            dependencies: [
                .product(name: "Conduit", package: conduitPackage),
                .product(name: "ConduitMessage", package: conduitPackage),
                .product(name: "ConduitApp", package: conduitPackage),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Transport",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "AsyncEchoServer",
            dependencies: [.product(name: "Conduit", package: conduitPackage)],
            path: "Sources/AsyncEchoServer"
        ),
        nioSSLExecutable("NIOSSLEchoServer"),
        // The other direction of the NIOSSL interop check (interop_niossl.sh): a NIOSSL
        // client against `conduit multiconn-server --tls-cert ...`.
        nioSSLExecutable("NIOSSLEchoClient"),
        .executableTarget(
            name: "NIOEchoServer",
            dependencies: [.product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/NIOEchoServer"
        ),
        // The app-protocol peer of `conduit app-server` (compare.sh): Foundation's JSON
        // coders, or Conduit's own codec under NIO's transport (--codec).
        .executableTarget(
            name: "NIOAppServer",
            dependencies: [
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ConduitMessage", package: conduitPackage),
                .product(name: "ConduitApp", package: conduitPackage),
            ],
            path: "Sources/NIOAppServer"
        ),
    ],
    swiftLanguageModes: [.v6]
)

/// An executable on SwiftNIO with NIOSSL, its sources in Sources/NAME.
func nioSSLExecutable(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ],
        path: "Sources/\(name)")
}
