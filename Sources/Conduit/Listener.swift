import CShim
import Glibc

/// A listening socket on one loop: accepts in batches and hands each new
/// connection a handler from `makeHandler`.
///
/// On TCP each loop has a listener of its own (`SO_REUSEPORT`), and the kernel spreads
/// connections over them. A Unix socket path, or an adopted descriptor, is one
/// listening socket for all the loops; its one listener hands the connections it
/// accepts to the loops in turn (`handOff`), one cross-thread hop per connection, so
/// that loops get equal shares. Left to wake-ups, every loop watching the one socket
/// accepting for itself, one loop took up to 94 % of a burst of 1,000 connections.
///
/// When the process runs out of descriptors (`EMFILE`/`ENFILE`), accepting pauses for
/// `ServerOptions.acceptBackoff` instead of spinning on a listening socket that stays
/// readable; pending clients wait in the kernel's backlog meanwhile.
///
/// How it accepts is its loop's transport's business (`Transport`): epoll readiness and
/// a batch of `accept4`, or one multishot accept in the io_uring ring.
final class Listener: Selectable {
    unowned let loop: EventLoop
    let socket: Socket
    let options: ServerOptions
    private var paused = false
    private let onAcceptError: @Sendable (SocketError) -> Void
    let connections: ServerConnections
    private let opener: AcceptedConnectionOpener
    /// TCP: accepted sockets get TCP's options (`TCP_NODELAY`); Unix ones have none.
    private let tcp: Bool
    /// The loops that take accepted connections in turn (empty: this loop keeps them).
    private let handOff: [EventLoop]
    private var nextHandOff = 0
    /// What this listener has asked of its loop's transport.
    var io = TransportSlot()

    init(
        loop: EventLoop, socket: Socket, options: ServerOptions, tcp: Bool, handOff: [EventLoop],
        connections: ServerConnections, onAcceptError: @escaping @Sendable (SocketError) -> Void,
        makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) {
        self.loop = loop
        self.socket = socket
        self.options = options
        self.tcp = tcp
        self.handOff = handOff.count > 1 ? handOff : []
        self.connections = connections
        self.onAcceptError = onAcceptError
        self.opener = AcceptedConnectionOpener(
            options: options, connections: connections, onAcceptError: onAcceptError, makeHandler: makeHandler)
    }

    var owner: AnyObject? { connections }

    /// The listening socket's descriptor.
    var descriptor: Int32 { socket.descriptor }

    /// True while the listener takes new connections (open, not paused).
    var isAccepting: Bool { socket.isOpen && !paused }

    func start() throws(SocketError) {
        guard !loop.hasFinished else { throw SocketError(.loopStopped, operation: "listen") }
        try loop.transport.register(self)
    }

    /// Stops accepting and closes the listening socket.
    func close() {
        guard socket.isOpen else { return }
        loop.transport.close(self)
        socket.close()
    }

    func loopDidStop(_ error: SocketError) { close() }
    func sweep(now: UInt64) {}
    func quiesce(drainLimit: Duration) { close() }
    func closeNow() { close() }

    /// The transport accepted `descriptor` for this listener.
    func accepted(_ descriptor: Int32) {
        guard socket.isOpen else {
            Glibc.close(descriptor)
            return
        }
        adopt(descriptor)
    }

    /// The transport's accept failed with `code`.
    func acceptFailed(code: Int32) {
        let error = SocketError(code: code, operation: "accept")
        switch code {
        case ECONNABORTED, EPROTO:
            return
        case _ where error.kind == .outOfResources:
            // Said, not only done: a server out of descriptors that goes quiet looks hung.
            onAcceptError(
                SocketError(code: code, operation: "accept (pausing new connections for \(options.acceptBackoff))"))
            pauseAccepting()
        default:
            onAcceptError(error)
        }
    }

    /// The transport could not watch this listener any more: it closes.
    func transportFailed(_ error: SocketError) {
        onAcceptError(error)
        close()
    }

    private func adopt(_ descriptor: Int32) {
        let accepted = Socket(descriptor: descriptor, calls: loop.calls)
        if options.noDelay && tcp { try? accepted.setNoDelay() }
        if options.receiveBufferSize != nil || options.sendBufferSize != nil {
            try? accepted.setBufferSizes(receive: options.receiveBufferSize, send: options.sendBufferSize)
        }
        guard connections.tryAdd(limit: options.maxConnections) else {
            refuse(accepted)
            return
        }
        guard !handOff.isEmpty else { return opener.open(accepted, on: loop) }
        let target = handOff[nextHandOff]
        nextHandOff = (nextHandOff + 1) % handOff.count
        if target === loop { return opener.open(accepted, on: loop) }
        // A descriptor is a plain integer: it crosses to the other loop, whose thread
        // makes the socket and connection that will live there.
        let descriptor = accepted.release()
        let opener = self.opener
        do throws(SocketError) {
            try target.execute { opener.open(Socket(descriptor: descriptor, calls: target.calls), on: target) }
        } catch {
            // That loop has stopped: the server is going away, so this one goes too.
            Glibc.close(descriptor)
            connections.remove()
        }
    }

    /// Over the limit: the peer gets the server's refusal message (if any) and a graceful
    /// close — FIN, then its input drained for a moment — so the refusal is not destroyed
    /// by the reset a close with unread input (a request already sent) would cause. At
    /// most `maxLingeringRefusals` linger at once; beyond that a refusal closes at once.
    private func refuse(_ accepted: Socket) {
        loop.counters.connectionsRefused += 1
        onAcceptError(
            SocketError(
                .connectionLimit,
                operation: "accept: max connections (\(options.maxConnections ?? 0)) reached, refused a new one"))
        guard lingeringRefusals < Self.maxLingeringRefusals else {
            if let refusal = options.overLimitResponse {
                refusal.withUnsafeBytes { _ = loop.calls.send(accepted.descriptor, $0.baseAddress!, $0.count) }
            }
            return
        }
        let handler = RefusalHandler(refusal: options.overLimitResponse, listener: self)
        let connection = Connection(loop: loop, socket: accepted, handler: handler, connecting: false)
        do {
            try connection.start()
        } catch {
            return
        }
        lingeringRefusals += 1
        connection.didOpen()
    }

    /// Refused connections draining now (each holds a descriptor for up to 2 s).
    var lingeringRefusals = 0
    static let maxLingeringRefusals = 256

    /// Out of descriptors: accepting pauses for the backoff (pending clients wait in the
    /// kernel's backlog) instead of spinning on a socket that stays ready.
    private func pauseAccepting() {
        paused = true
        loop.transport.setAccepting(self, false)
        loop.schedule(after: options.acceptBackoff) { [weak self] in
            guard let self, self.socket.isOpen else { return }
            self.paused = false
            self.loop.transport.setAccepting(self, true)
        }
    }
}

/// Stands in for the real handler while `makeHandler` runs (it may need the connection).
final class PlaceholderHandler: ConnectionHandler, Sendable {
    static let shared = PlaceholderHandler()
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { 0 }
}

/// Writes the refusal for a connection over the server's limit and closes gracefully.
final class RefusalHandler: ConnectionHandler {
    let refusal: [UInt8]?
    weak var listener: Listener?

    init(refusal: [UInt8]?, listener: Listener) {
        self.refusal = refusal
        self.listener = listener
    }

    func connectionDidOpen(_ connection: Connection) {
        if let refusal { connection.write(refusal) }
        connection.closeGracefully(drainLimit: .seconds(2))
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }

    func connectionDidClose(_ connection: Connection, error: SocketError?) { listener?.lingeringRefusals -= 1 }
}

