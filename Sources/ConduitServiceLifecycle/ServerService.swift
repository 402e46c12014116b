import Conduit
import ServiceLifecycle

/// A transport `Server` (your own `ConnectionHandler`s) as a swift-service-lifecycle
/// `Service`: it serves from the moment it was started; on a graceful shutdown (or a
/// cancellation) it stops gracefully — no new connections, each handler asked to finish
/// (`ConnectionHandler.connectionShouldQuiesce`), output in flight delivered within
/// `gracePeriod` — and then returns, so a `ServiceGroup` can shut down the loops after.
///
/// ```swift
/// let server = try await Server.start(group: loops, address: .loopback(port: 9000)) { _ in MyHandler() }
/// let group = ServiceGroup(services: [ServerService(server: server)], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public struct ServerService: Service {
    private let server: Server
    private let gracePeriod: Duration

    /// A service for `server`.
    public init(server: Server, gracePeriod: Duration = .seconds(5)) {
        self.server = server
        self.gracePeriod = gracePeriod
    }

    /// Waits for a graceful shutdown or a cancellation, then stops the server; past the
    /// grace period, connections still open are closed.
    public func run() async throws {
        // Returns on a graceful shutdown; throws on a cancellation. Both mean "stop".
        try? await gracefulShutdown()
        if await server.shutdownGracefully(timeout: gracePeriod) > 0 { await server.closeConnectionsNow() }
    }
}
