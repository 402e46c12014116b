import Conduit
import ServiceLifecycle

/// An `AsyncServer` as a swift-service-lifecycle `Service`: add it to a `ServiceGroup`,
/// which runs it and, on SIGTERM (or whatever graceful-shutdown signal the group is
/// given), stops it gracefully: no new connections, each handler sees the end of its
/// input and may still send its last answers within `gracePeriod`.
///
/// ```swift
/// let server = try await AsyncServer.start(group: loops, address: .loopback(port: 8080))
/// let service = AsyncServerService(server: server) { connection in … }
/// let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public struct AsyncServerService: Service {
    private let server: AsyncServer
    private let gracePeriod: Duration
    private let handle: @Sendable (AsyncConnection) async -> Void

    /// Serves `server`'s connections with `handle`, each in its own task.
    public init(
        server: AsyncServer, gracePeriod: Duration = .seconds(5),
        handle: @escaping @Sendable (AsyncConnection) async -> Void
    ) {
        self.server = server
        self.gracePeriod = gracePeriod
        self.handle = handle
    }

    /// Serves until a graceful shutdown or a cancellation, then stops gracefully.
    public func run() async throws {
        let server = self.server
        let gracePeriod = self.gracePeriod
        await withGracefulShutdownHandler {
            await server.run(gracePeriod: gracePeriod, handle)
        } onGracefulShutdown: {
            Task { await server.shutdownGracefully(timeout: gracePeriod) }
        }
    }
}
