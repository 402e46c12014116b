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
/// On the `uring` backend a listener accepts through the ring: one multishot accept
/// posts a completion per connection, with no readiness event and no `accept4` call. An
/// error ends it; it is armed again at once, or after the backoff.
final class Listener: Selectable {
    unowned let loop: EventLoop
    let socket: Socket
    let options: ServerOptions
    private var acceptedFDs = [Int32](repeating: -1, count: 64)
    private var paused = false
    private let onAcceptError: @Sendable (SocketError) -> Void
    let connections: ServerConnections
    private let opener: AcceptedConnectionOpener
    /// TCP: accepted sockets get TCP's options (`TCP_NODELAY`); Unix ones have none.
    private let tcp: Bool
    /// The loops that take accepted connections in turn (empty: this loop keeps them).
    private let handOff: [EventLoop]
    private var nextHandOff = 0
    /// `uring`: this listener's registry token, which its accept completions carry.
    private var token: UInt64 = 0
    /// `uring`: the multishot accept is in the ring (until a completion without `more`).
    private var acceptArmed = false
    /// `uring`: accepts go through the ring (false on a kernel that refused a multishot
    /// accept: this listener then waits for readiness through epoll as the others do).
    private var acceptsThroughRing: Bool

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
        self.acceptsThroughRing = loop.ring != nil
        self.connections = connections
        self.onAcceptError = onAcceptError
        self.opener = AcceptedConnectionOpener(
            options: options, connections: connections, onAcceptError: onAcceptError, makeHandler: makeHandler)
    }

    var owner: AnyObject? { connections }

    func start() throws(SocketError) {
        token = try loop.register(
            self, descriptor: socket.descriptor, events: acceptsThroughRing ? 0 : EpollFlag.readable)
        armAccept()
    }

    /// Stops accepting and closes the listening socket.
    func close() {
        guard socket.isOpen else { return }
        if acceptArmed, let ring = loop.ring {
            // An armed accept keeps the listening socket (and its port) open, and names
            // it by number: cancelled and submitted before the number can be reused.
            // The cancelled accept lets go of the socket only when the kernel runs the
            // work DEFER_TASKRUN holds for our next wait, so that runs now too: the port
            // is free when `close` returns, not when the loop next waits (a test that
            // bound the port right after `stopAccepting` saw EADDRINUSE under load).
            ring.cancel(Ring.userData(.accept, token: token))
            ring.submit()
        }
        loop.deregister(descriptor: socket.descriptor)
        socket.close()
    }

    /// Puts the multishot accept in the ring, unless it is there, paused or closed.
    private func armAccept() {
        guard acceptsThroughRing, let ring = loop.ring, !acceptArmed, !paused, socket.isOpen else { return }
        ring.accept(socket.descriptor, userData: Ring.userData(.accept, token: token))
        acceptArmed = true
    }

    func acceptCompleted(result: Int32, more: Bool) {
        if !more { acceptArmed = false }
        guard socket.isOpen else {
            if result >= 0 { Glibc.close(result) }
            return
        }
        if result >= 0 {
            adopt(result)
        } else if result == -EINVAL && !more {
            // A kernel without multishot accept (before 5.19): readiness through epoll.
            acceptsThroughRing = false
            setInterest(paused ? 0 : EpollFlag.readable)
            return
        } else if result != -ECANCELED {
            handleAcceptError(-result)
        }
        if paused && acceptArmed, let ring = loop.ring {
            ring.cancel(Ring.userData(.accept, token: token))
        }
        armAccept()
    }

    func loopDidStop(_ error: SocketError) { close() }
    func sweep(now: UInt64) {}
    func quiesce(drainLimit: Duration) { close() }
    func closeNow() { close() }

    func handleEvents(_ flags: UInt32) {
        guard socket.isOpen, !paused else { return }
        let outcome = acceptedFDs.withUnsafeMutableBufferPointer { fds in
            IOResult.retryingInterrupts {
                loop.calls.acceptBatch(socket.descriptor, into: fds.baseAddress!, max: Int32(fds.count))
            }
        }
        switch outcome {
        case .processed(let count):
            for index in 0..<count { adopt(acceptedFDs[index]) }
        case .wouldBlock:
            return
        case .failed(let code):
            handleAcceptError(code)
        }
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

    private func handleAcceptError(_ code: Int32) {
        let error = SocketError(code: code, operation: "accept")
        switch code {
        case ECONNABORTED, EPROTO:
            return
        case _ where error.kind == .outOfResources:
            onAcceptError(error)
            pauseAccepting()
        default:
            onAcceptError(error)
        }
    }

    private func pauseAccepting() {
        paused = true
        // Through the ring the error has already ended the accept; nothing to unwatch.
        if !acceptsThroughRing { setInterest(0) }
        loop.schedule(after: options.acceptBackoff) { [weak self] in
            guard let self, self.socket.isOpen else { return }
            self.paused = false
            if self.acceptsThroughRing {
                self.armAccept()
            } else {
                self.setInterest(EpollFlag.readable)
            }
        }
    }

    private func setInterest(_ events: UInt32) {
        do throws(SocketError) {
            try loop.modify(descriptor: socket.descriptor, events: events)
        } catch {
            onAcceptError(error)
            close()
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

