import Conduit
import ConduitMessage

/// The application server: the message protocol of PROTOCOL.md on every loop of a
/// group, answering through a `Router`. Persistent connections, pipelined requests
/// answered in order; a protocol error gets one error response and a close.
public final class AppServer: Sendable {
    /// The underlying transport server (address, stop accepting).
    public let server: Server

    /// Starts serving on `address` — an IP address and port, or a Unix socket path —
    /// with `router` (the tutorial's service by default), blocking until every loop
    /// listens (not in async code: use `AppServer.start`).
    /// A header not complete within `headerTimeout`, or a whole message not complete
    /// within `messageTimeout` (each counted from the message's start; `.zero`: no
    /// limit), gets an error response and a close; so does a message whose announced
    /// size `options.memoryBudget` cannot cover now, and a connection over
    /// `options.maxConnections`.
    @available(*, noasync, message: "use 'try await AppServer.start(…)'; this one blocks the thread")
    public convenience init(
        group: EventLoopGroup, address: SocketAddress, router: Router = .tutorial(),
        limits: MessageLimits = MessageLimits(), options: ServerOptions = ServerOptions(),
        headerTimeout: Duration = .zero, messageTimeout: Duration = .zero, log: AppLog = .silent
    ) throws(SocketError) {
        let timeouts = RequestTimeouts(header: headerTimeout, message: messageTimeout)
        let (services, options, onAcceptError, makeHandler) = Self.setUp(group, router, limits, options, timeouts, log)
        self.init(
            server: try Server(
                group: group, address: address, options: options,
                onAcceptError: onAcceptError, makeHandler: makeHandler), services: services)
    }

    /// Starts serving; the async form of `init`, with the same parameters.
    public static func start(
        group: EventLoopGroup, address: SocketAddress, router: Router = .tutorial(),
        limits: MessageLimits = MessageLimits(), options: ServerOptions = ServerOptions(),
        headerTimeout: Duration = .zero, messageTimeout: Duration = .zero, log: AppLog = .silent
    ) async throws(SocketError) -> AppServer {
        let timeouts = RequestTimeouts(header: headerTimeout, message: messageTimeout)
        let (services, options, onAcceptError, makeHandler) = setUp(group, router, limits, options, timeouts, log)
        return AppServer(
            server: try await Server.start(
                group: group, address: address, options: options,
                onAcceptError: onAcceptError, makeHandler: makeHandler), services: services)
    }

    /// Serves the protocol on a socket that is already bound and listening (TCP or
    /// Unix; systemd's socket activation), blocking until every loop listens. Who owns
    /// `descriptor` is as for `Server.init(group:adoptingListeningDescriptor:…)`; the
    /// other parameters are as for `init(group:address:…)`.
    @available(*, noasync, message: "use 'try await AppServer.start(…)'; this one blocks the thread")
    public convenience init(
        group: EventLoopGroup, adoptingListeningDescriptor descriptor: Int32, router: Router = .tutorial(),
        limits: MessageLimits = MessageLimits(), options: ServerOptions = ServerOptions(),
        headerTimeout: Duration = .zero, messageTimeout: Duration = .zero, log: AppLog = .silent
    ) throws(SocketError) {
        let timeouts = RequestTimeouts(header: headerTimeout, message: messageTimeout)
        let (services, options, onAcceptError, makeHandler) = Self.setUp(group, router, limits, options, timeouts, log)
        self.init(
            server: try Server(
                group: group, adoptingListeningDescriptor: descriptor, options: options,
                onAcceptError: onAcceptError, makeHandler: makeHandler), services: services)
    }

    /// Serves the protocol on an already listening socket; the async form of
    /// `init(group:adoptingListeningDescriptor:…)`.
    public static func start(
        group: EventLoopGroup, adoptingListeningDescriptor descriptor: Int32, router: Router = .tutorial(),
        limits: MessageLimits = MessageLimits(), options: ServerOptions = ServerOptions(),
        headerTimeout: Duration = .zero, messageTimeout: Duration = .zero, log: AppLog = .silent
    ) async throws(SocketError) -> AppServer {
        let timeouts = RequestTimeouts(header: headerTimeout, message: messageTimeout)
        let (services, options, onAcceptError, makeHandler) = setUp(group, router, limits, options, timeouts, log)
        return AppServer(
            server: try await Server.start(
                group: group, adoptingListeningDescriptor: descriptor, options: options,
                onAcceptError: onAcceptError, makeHandler: makeHandler), services: services)
    }

    /// Each loop's service (router, log, counters).
    let services: LoopServices

    private init(server: Server, services: LoopServices) {
        self.server = server
        self.services = services
    }

    /// The server options, accept-error log and handler factory every form starts the
    /// transport with.
    private static func setUp(
        _ group: EventLoopGroup, _ router: Router, _ limits: MessageLimits, _ options: ServerOptions,
        _ timeouts: RequestTimeouts, _ log: AppLog
    ) -> (LoopServices, ServerOptions, @Sendable (SocketError) -> Void, @Sendable (Connection) -> ConnectionHandler) {
        let services = LoopServices(loops: group.loops, router: router, log: log, limits: limits, timeouts: timeouts)
        var options = options
        if let limit = options.maxConnections, options.overLimitResponse == nil {
            var refusal: [UInt8] = []
            try? Response.error("server busy: at its limit of \(limit) connection\(limit == 1 ? "" : "s")").encode(into: &refusal)
            options.overLimitResponse = refusal
        }
        // Header deadlines and the linger after a protocol error are checked by the
        // same sweep as idle timeouts.
        options.sweepTimeouts = true
        return (services, options, { error in log(.error, "accept failed: \(error)") }, { connection in
            AppConnectionHandler(service: services.service(for: connection.loop))
        })
    }

    /// Graceful stop (see `Server.shutdownGracefully`): no new connections; answers to
    /// requests already received are sent (asynchronous actions in flight finish
    /// first), then each connection closes once its peer has read everything and
    /// closed. Connections still open after `timeout` (a peer that stays connected, an
    /// action that does not finish) are closed then, and their actions cancelled.
    /// Returns how many had to be closed that way.
    @discardableResult
    public func shutdownGracefully(timeout: Duration = .seconds(5)) async -> Int {
        let left = await server.shutdownGracefully(timeout: timeout)
        if left > 0 { await server.closeConnectionsNow() }
        return left
    }

    /// The blocking form of `shutdownGracefully` (not on a loop thread, not in async code).
    @available(*, noasync, message: "use 'await shutdownGracefully()'; this one blocks the thread")
    @discardableResult
    public func syncShutdownGracefully(timeout: Duration = .seconds(5)) -> Int {
        let left = server.syncShutdownGracefully(timeout: timeout)
        if left > 0 { server.syncCloseConnectionsNow() }
        return left
    }

    /// The address being served.
    public var address: SocketAddress { server.address }
}

/// One `LoopService` per loop, found by the loop's identity; each is bound to its loop.
final class LoopServices: Sendable {
    private let services: [ObjectIdentifier: LoopBound<LoopService>]

    init(loops: [EventLoop], router: Router, log: AppLog, limits: MessageLimits, timeouts: RequestTimeouts) {
        var services: [ObjectIdentifier: LoopBound<LoopService>] = [:]
        for loop in loops {
            let service = LoopService(router: router, log: log, limits: limits, timeouts: timeouts)
            services[ObjectIdentifier(loop)] = LoopBound(transferring: service, to: loop)
        }
        self.services = services
    }

    /// Every loop's service, bound to its loop.
    var all: [LoopBound<LoopService>] { Array(services.values) }

    /// The service of `loop`; call on that loop.
    func service(for loop: EventLoop) -> LoopService { services[ObjectIdentifier(loop)]!.value }
}
