// swift-tools-version: 6.1
// Small programs that use Conduit as an embedder would, each a complete server and
// client that runs and exits: `Examples/run.sh` builds and runs them all (CI does).
// Its own package, depending on Conduit by path, exactly as yours would by URL.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which is whatever the clone was
/// called, so read it instead of spelling it.
let conduit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "ConduitExamples",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(name: "EmbeddedEcho", dependencies: [.product(name: "Conduit", package: conduit)]),
        .executableTarget(name: "LineProtocol", dependencies: [.product(name: "Conduit", package: conduit)]),
        .executableTarget(
            name: "AsyncAction",
            dependencies: [.product(name: "Conduit", package: conduit), .product(name: "ConduitApp", package: conduit)]),
        .executableTarget(
            name: "PipelinedClient",
            dependencies: [.product(name: "Conduit", package: conduit), .product(name: "ConduitApp", package: conduit)]),
        .executableTarget(
            name: "LoadCustomProtocol",
            dependencies: [.product(name: "Conduit", package: conduit), .product(name: "ConduitLoad", package: conduit)]),
        .executableTarget(
            name: "ServiceGroupServer",
            dependencies: [
                .product(name: "Conduit", package: conduit), .product(name: "ConduitApp", package: conduit),
                .product(name: "ConduitServiceLifecycle", package: conduit),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
