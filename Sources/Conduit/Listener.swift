import CShim
import Glibc

/// A listening socket on one loop: accepts in batches and hands each new
/// connection a handler from `makeHandler`.
///
/// When the process runs out of descriptors (`EMFILE`/`ENFILE`), accepting pauses for
/// `ServerOptions.acceptBackoff` instead of spinning on a listening socket that stays
/// readable; pending clients wait in the kernel's backlog meanwhile.
final class Listener: Selectable {
    unowned let loop: EventLoop
    let socket: Socket
    let makeHandler: (Connection) -> ConnectionHandler
    let options: ServerOptions
    private var acceptedFDs = [Int32](repeating: -1, count: 64)
    private var paused = false
    private let onAcceptError: (SocketError) -> Void
    let connections: ServerConnections

    init(
        loop: EventLoop, socket: Socket, options: ServerOptions, connections: ServerConnections,
        onAcceptError: @escaping (SocketError) -> Void,
        makeHandler: @escaping (Connection) -> ConnectionHandler
    ) {
        self.loop = loop
        self.socket = socket
        self.options = options
        self.connections = connections
        self.onAcceptError = onAcceptError
        self.makeHandler = makeHandler
    }

    var owner: AnyObject? { connections }

    func start() throws(SocketError) {
        try loop.register(self, descriptor: socket.descriptor, events: EpollFlag.readable)
    }

    /// Stops accepting and closes the listening socket.
    func close() {
        guard socket.isOpen else { return }
        loop.deregister(descriptor: socket.descriptor)
        socket.close()
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
        if options.noDelay { try? accepted.setNoDelay() }
        if options.receiveBufferSize != nil || options.sendBufferSize != nil {
            try? accepted.setBufferSizes(receive: options.receiveBufferSize, send: options.sendBufferSize)
        }
        guard connections.tryAdd(limit: options.maxConnections) else {
            refuse(accepted)
            return
        }
        let connection = Connection(
            loop: loop, socket: accepted, handler: PlaceholderHandler.shared, connecting: false, server: connections)
        connection.idleTimeout = options.idleTimeout
        connection.backpressure = options.backpressure
        connection.replaceHandler(makeHandler(connection))
        do {
            try connection.start()
        } catch {
            connections.remove()
            onAcceptError(error)
            return
        }
        connection.didOpen()
    }

    /// Over the limit: the peer gets the server's refusal message (if any) and a graceful
    /// close — FIN, then its input drained for a moment — so the refusal is not destroyed
    /// by the reset a close with unread input (a request already sent) would cause. At
    /// most `maxLingeringRefusals` linger at once; beyond that a refusal closes at once.
    private func refuse(_ accepted: Socket) {
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
        setInterest(0)
        loop.schedule(after: options.acceptBackoff) { [weak self] in
            guard let self, self.socket.isOpen else { return }
            self.paused = false
            self.setInterest(EpollFlag.readable)
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

