import CShim
import Dispatch
import Glibc
import Synchronization

/// A stream server over TCP or a Unix domain socket. On TCP each loop of the group has
/// its own listening socket, sharing the port through `SO_REUSEPORT` when there are
/// several, so connections stay on the loop whose socket the kernel chose, with no
/// hand-off between threads. A Unix socket path (where `SO_REUSEPORT` does not apply),
/// or a descriptor handed over already listening, is one listening socket on the first
/// loop, which hands the connections it accepts to the loops in turn.
///
/// A server owns its listeners and the connections they accepted, and nothing else:
/// stopping it leaves other servers on the same group alone. A Unix socket file it
/// created is removed when it stops accepting.
public final class Server: Sendable {
    /// The address the server listens on (with the real port when 0 was asked for).
    public let address: SocketAddress
    let group: EventLoopGroup
    let listeners: [LoopBound<Listener>]
    let connections: ServerConnections
    /// The Unix socket file this server created (nil for TCP and adopted descriptors).
    let socketFile: UnixSocketFile?

    /// Binds and starts listening on every loop of `group`, blocking until every loop
    /// listens. `address` is an IP address and port, or a Unix socket path
    /// (`SocketAddress.unix(path:)`): a stale socket file there (nobody listening) is
    /// replaced, a live one fails with `.addressInUse`. `makeHandler` runs on the loop
    /// that will serve each new connection. `onAcceptError` hears about accept
    /// failures (out of descriptors, over the connection limit) for logging. Not on one
    /// of the group's loops (it would wait for itself), and not in async code: use
    /// `Server.start` there.
    @available(*, noasync, message: "use 'try await Server.start(…)'; this one blocks the thread")
    public convenience init(
        group: EventLoopGroup,
        address: SocketAddress,
        options: ServerOptions = ServerOptions(),
        onAcceptError: @escaping @Sendable (SocketError) -> Void = { _ in },
        makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) throws(SocketError) {
        group.preconditionNotInAnyLoop("Server.init")
        let bound = try Self.bind(group: group, address: address, options: options)
        try self.init(blockingUntilListening: bound, group: group, options: options, onAcceptError, makeHandler)
    }

    /// Binds and starts listening on every loop of `group`; returns once every loop
    /// listens. The async form of `init`; see it for the parameters.
    public static func start(
        group: EventLoopGroup,
        address: SocketAddress,
        options: ServerOptions = ServerOptions(),
        onAcceptError: @escaping @Sendable (SocketError) -> Void = { _ in },
        makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) async throws(SocketError) -> Server {
        let bound = try bind(group: group, address: address, options: options)
        return try await start(bound, group: group, options: options, onAcceptError, makeHandler)
    }

    /// Hands `bound` to the loops and blocks until every one listens (or one fails).
    convenience init(
        blockingUntilListening bound: Bound, group: EventLoopGroup, options: ServerOptions,
        _ onAcceptError: @escaping @Sendable (SocketError) -> Void,
        _ makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) throws(SocketError) {
        let started = DispatchSemaphore(value: 0)
        let outcome = Locked<Result<[LoopBound<Listener>], SocketError>?>(nil)
        Self.startListeners(
            bound, group: group, options: options, onAcceptError: onAcceptError, makeHandler: makeHandler
        ) { result in
            outcome.withLock { $0 = result }
            started.signal()
        }
        started.wait()
        let listeners = try outcome.withLock { $0! }.get()
        self.init(bound: bound, group: group, listeners: listeners)
    }

    /// Hands `bound` to the loops; returns once every one listens (or one fails).
    static func start(
        _ bound: Bound, group: EventLoopGroup, options: ServerOptions,
        _ onAcceptError: @escaping @Sendable (SocketError) -> Void,
        _ makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) async throws(SocketError) -> Server {
        let result = await withCheckedContinuation { continuation in
            startListeners(
                bound, group: group, options: options, onAcceptError: onAcceptError, makeHandler: makeHandler
            ) { continuation.resume(returning: $0) }
        }
        return Server(bound: bound, group: group, listeners: try result.get())
    }

    private init(bound: Bound, group: EventLoopGroup, listeners: [LoopBound<Listener>]) {
        self.address = bound.address
        self.group = group
        self.listeners = listeners
        self.connections = bound.connections
        self.socketFile = bound.socketFile
    }

    /// Listening descriptors made on the calling thread, one per loop (or one for all
    /// of them), not yet owned by any loop (plain integers, so they may cross to the loops).
    struct Bound: Sendable {
        let address: SocketAddress
        let descriptors: [Int32]
        let connections: ServerConnections
        /// One listening socket for every loop: the first loop accepts and hands the
        /// connections to all of them in turn.
        var shared = false
        /// The Unix socket file bound, to remove when the server stops.
        var socketFile: UnixSocketFile?
    }

    /// Hands each loop its listening descriptor; `completion` runs once, on some loop
    /// or on the calling thread, with the listeners or the first error.
    private static func startListeners(
        _ bound: Bound, group: EventLoopGroup, options: ServerOptions,
        onAcceptError: @escaping @Sendable (SocketError) -> Void,
        makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler,
        completion: @escaping @Sendable (Result<[LoopBound<Listener>], SocketError>) -> Void
    ) {
        // The sweep also resumes reading paused for the memory budget.
        let needsSweep = options.idleTimeout > .zero || options.sweepTimeouts || options.memoryBudget != nil
            || options.tls != nil
        let progress = Locked(StartProgress(expected: bound.descriptors.count))
        let report: @Sendable (Int, Result<LoopBound<Listener>, SocketError>) -> Void = { index, result in
            guard let finished = progress.withLock({ $0.record(index, result) }) else { return }
            // A server that failed to start leaves no socket file behind.
            if case .failure = finished { bound.socketFile?.remove() }
            completion(finished)
        }
        // Loops that are handed connections without a listener of their own sweep too;
        // each loop runs this before any connection handed to it.
        if needsSweep && bound.shared {
            for loop in group.loops.dropFirst() { try? loop.execute { loop.enableTimeoutSweep() } }
        }
        for (index, (loop, descriptor)) in zip(group.loops, bound.descriptors).enumerated() {
            do throws(SocketError) {
                try loop.execute {
                    let listener = Listener(
                        loop: loop, socket: Socket(descriptor: descriptor, calls: loop.calls), options: options,
                        tcp: bound.address.isIP, handOff: bound.shared ? group.loops : [],
                        connections: bound.connections, onAcceptError: onAcceptError, makeHandler: makeHandler)
                    if needsSweep { loop.enableTimeoutSweep() }
                    do throws(SocketError) {
                        try listener.start()
                        report(index, .success(LoopBound(listener, on: loop)))
                    } catch {
                        listener.close()
                        report(index, .failure(error))
                    }
                }
            } catch {
                Glibc.close(descriptor)
                report(index, .failure(error))
            }
        }
    }

    /// Open connections of this server, across its loops.
    public var openConnections: Int { connections.count }

    /// Bytes its connections hold in buffers now (input of incomplete messages, or
    /// reserved for them, and unsent output); 0 without `ServerOptions.memoryBudget`.
    public var bufferedBytes: Int { connections.memory?.bytesInUse ?? 0 }
}

/// Collects each loop's answer to "start listening"; the last answer completes.
private struct StartProgress {
    var listeners: [LoopBound<Listener>?]
    var failure: SocketError?
    var answered = 0

    init(expected: Int) { listeners = Array(repeating: nil, count: expected) }

    /// Records one answer; returns the outcome once every loop has answered.
    mutating func record(
        _ index: Int, _ result: Result<LoopBound<Listener>, SocketError>
    ) -> Result<[LoopBound<Listener>], SocketError>? {
        switch result {
        case .success(let listener): listeners[index] = listener
        case .failure(let error): failure = failure ?? error
        }
        answered += 1
        guard answered == listeners.count else { return nil }
        if let failure {
            // Listeners that did start must not outlive a server that failed to start.
            for case let listener? in listeners { try? listener.loop.execute { listener.value.close() } }
            return .failure(failure)
        }
        return .success(listeners.map { $0! })
    }
}
