import CShim
import Glibc
import Synchronization

/// A TCP server: one listening socket per loop of a group, sharing the port through
/// `SO_REUSEPORT` when there are several, so connections stay on the loop whose
/// socket the kernel chose, with no hand-off between threads.
public final class Server: Sendable {
    /// The address the server listens on (with the real port when 0 was asked for).
    public let address: SocketAddress
    private let listeners: [Listener.Box]
    private let counter: ConnectionCounter
    private let needsSweep: Bool

    /// Binds and starts listening on every loop of `group`. `makeHandler` runs on the
    /// accepting loop for each new connection. `onAcceptError` hears about accept
    /// failures (out of descriptors, over the connection limit) for logging.
    public init(
        group: EventLoopGroup,
        address: SocketAddress,
        options: ServerOptions = ServerOptions(),
        onAcceptError: @escaping @Sendable (SocketError) -> Void = { _ in },
        makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) throws(SocketError) {
        let reusePort = options.reusePort ?? (group.loops.count > 1)
        var bound = address
        var sockets: [Socket] = []
        for loop in group.loops {
            let socket = try Self.listen(on: bound, calls: loop.calls, options: options, reusePort: reusePort)
            // With port 0 the first bind picks a port; the other loops join it.
            if bound.port == 0, let actual = socket.localAddress() { bound = actual }
            sockets.append(socket)
        }
        self.address = bound
        self.needsSweep = options.idleTimeoutNanoseconds > 0 || options.sweepTimeouts
        var boxes: [Listener.Box] = []
        let counter = ConnectionCounter()
        self.counter = counter
        for (loop, socket) in zip(group.loops, sockets) {
            let listener = Listener(
                loop: loop, socket: socket, options: options, counter: counter, onAcceptError: onAcceptError,
                makeHandler: makeHandler)
            boxes.append(Listener.Box(listener))
        }
        self.listeners = boxes
        let failure = Mutex<SocketError?>(nil)
        let started = DispatchSemaphoreBox(count: boxes.count)
        for box in boxes {
            let sweep = needsSweep
            box.listener.loop.execute {
                if sweep { box.listener.loop.enableTimeoutSweep() }
                do throws(SocketError) { try box.listener.start() } catch { failure.withLock { $0 = error } }
                started.signal()
            }
        }
        started.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    private static func listen(
        on address: SocketAddress, calls: SystemCalls, options: ServerOptions, reusePort: Bool
    ) throws(SocketError) -> Socket {
        let socket = try Socket.open(family: address.family, calls: calls)
        try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
        if reusePort { try socket.setOption(SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT") }
        if address.family == AF_INET6 { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY") }
        let bound = address.withSockAddr { bind(socket.descriptor, $0, $1) }
        if bound < 0 { throw SocketError(code: errno, operation: "bind \(address)") }
        if Glibc.listen(socket.descriptor, options.backlog) < 0 {
            throw SocketError(code: errno, operation: "listen \(address)")
        }
        return socket
    }

    /// Stops accepting on every loop (existing connections stay open) and waits until
    /// the listening sockets are closed. Safe from any thread except a loop of the group.
    public func stopAccepting() {
        let done = DispatchSemaphoreBox(count: listeners.count)
        for box in listeners {
            box.listener.loop.execute {
                box.listener.close()
                done.signal()
            }
        }
        done.wait()
    }
}

extension Server {
    /// Open connections, when `maxConnections` is set (otherwise not counted: 0).
    public var openConnections: Int { counter.count }

    /// Graceful stop: stops accepting, lets every connection send what it has queued
    /// (responses to requests already received are queued by then, because handlers
    /// answer synchronously) and close; waits at most `timeoutNanoseconds` for that,
    /// then returns. Call from outside the group's loops; shut the group down after.
    /// Returns the number of connections still open at the deadline.
    @discardableResult
    public func shutdownGracefully(group: EventLoopGroup, timeoutNanoseconds: UInt64 = 5_000_000_000) -> Int {
        stopAccepting()
        for loop in group.loops { loop.execute { loop.closeAllGracefully() } }
        let deadline = Monotonic.now() + timeoutNanoseconds
        while true {
            let open = group.loops.reduce(0) { total, loop in total + loop.registeredCountFromAnyThread }
            if open == 0 || Monotonic.now() >= deadline { return open }
            usleep(10_000)
        }
    }
}

/// Counts a server's open connections across its loops.
final class ConnectionCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds one if that stays within `limit`; false (and nothing added) otherwise.
    func tryAdd(limit: Int) -> Bool {
        var current = value.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = value.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func remove() { value.subtract(1, ordering: .relaxed) }

    var count: Int { value.load(ordering: .relaxed) }
}

extension Listener {
    /// Carries a loop-confined listener into the loop's own tasks.
    struct Box: @unchecked Sendable {
        let listener: Listener
        init(_ listener: Listener) { self.listener = listener }
    }
}
