import Conduit
import ConduitApp
import ServiceLifecycle

/// An `AppServer` as a swift-service-lifecycle `Service`: it serves from the moment it
/// was started; on a graceful shutdown (or a cancellation) it stops gracefully — no new
/// connections, answers in flight (asynchronous actions included) delivered within
/// `gracePeriod` — and then returns, so a `ServiceGroup` can shut down the loops after.
public struct AppServerService: Service {
    private let server: AppServer
    private let gracePeriod: Duration

    /// A service for `server`.
    public init(server: AppServer, gracePeriod: Duration = .seconds(5)) {
        self.server = server
        self.gracePeriod = gracePeriod
    }

    /// Waits for a graceful shutdown or a cancellation, then stops the server.
    public func run() async throws {
        // Returns on a graceful shutdown; throws on a cancellation. Both mean "stop".
        try? await gracefulShutdown()
        await server.shutdownGracefully(timeout: gracePeriod)
    }
}
