import CShim
import Glibc

/// A listening socket on one loop: accepts in batches and hands each new
/// connection a handler from `makeHandler`.
///
/// When the process runs out of descriptors (`EMFILE`/`ENFILE`), accepting pauses for
/// `acceptBackoffNanoseconds` instead of spinning on a listening socket that stays
/// readable; pending clients wait in the kernel's backlog meanwhile.
final class Listener: Selectable {
    unowned let loop: EventLoop
    let socket: Socket
    let makeHandler: (Connection) -> ConnectionHandler
    let options: ServerOptions
    private var acceptedFDs = [Int32](repeating: -1, count: 64)
    private var paused = false
    private let onAcceptError: (SocketError) -> Void
    let counter: ConnectionCounter

    init(
        loop: EventLoop, socket: Socket, options: ServerOptions, counter: ConnectionCounter,
        onAcceptError: @escaping (SocketError) -> Void,
        makeHandler: @escaping (Connection) -> ConnectionHandler
    ) {
        self.loop = loop
        self.socket = socket
        self.options = options
        self.counter = counter
        self.onAcceptError = onAcceptError
        self.makeHandler = makeHandler
    }

    func start() throws(SocketError) {
        try loop.register(self, descriptor: socket.descriptor, events: EpollFlag.readable)
    }

    /// Stops accepting and closes the listening socket.
    func close() {
        guard socket.isOpen else { return }
        loop.deregister(descriptor: socket.descriptor)
        socket.close()
    }

    func loopDidStop() { close() }
    func sweep(now: UInt64) {}
    func closeGracefully() { close() }

    func handleEvents(_ flags: UInt32) {
        guard socket.isOpen, !paused else { return }
        let raw = acceptedFDs.withUnsafeMutableBufferPointer {
            loop.calls.acceptBatch(socket.descriptor, into: $0.baseAddress!, max: Int32($0.count))
        }
        if raw < 0 {
            handleAcceptError(Int32(-raw))
            return
        }
        for index in 0..<raw {
            adopt(acceptedFDs[index])
        }
    }

    private func adopt(_ descriptor: Int32) {
        let accepted = Socket(descriptor: descriptor, calls: loop.calls)
        if options.noDelay { try? accepted.setNoDelay() }
        if options.receiveBufferSize != nil || options.sendBufferSize != nil {
            try? accepted.setBufferSizes(receive: options.receiveBufferSize, send: options.sendBufferSize)
        }
        if let limit = options.maxConnections, !counter.tryAdd(limit: limit) {
            // Over the limit: the peer gets the server's refusal message (if any) and an
            // orderly close at once, rather than waiting in silence.
            if let refusal = options.overLimitResponse {
                refusal.withUnsafeBytes { _ = loop.calls.send(accepted.descriptor, $0.baseAddress!, $0.count) }
            }
            onAcceptError(SocketError(code: EMFILE, operation: "accept: max connections (\(limit)) reached, closed a new one"))
            return
        }
        let connection = Connection(loop: loop, socket: accepted, handler: PlaceholderHandler.shared, connecting: false)
        if options.maxConnections != nil {
            let counter = self.counter
            connection.closeObserver = { counter.remove() }
        }
        connection.idleTimeoutNanoseconds = options.idleTimeoutNanoseconds
        connection.replaceHandler(makeHandler(connection))
        connection.highWatermark = options.highWatermark
        connection.lowWatermark = options.lowWatermark
        do {
            try connection.start(events: EpollFlag.readable)
        } catch {
            onAcceptError(error)
            return
        }
        connection.didOpen()
    }

    private func handleAcceptError(_ code: Int32) {
        switch code {
        case EINTR, ECONNABORTED, EPROTO:
            return
        case EMFILE, ENFILE, ENOBUFS, ENOMEM:
            onAcceptError(SocketError(code: code, operation: "accept"))
            paused = true
            loop.modify(descriptor: socket.descriptor, events: 0)
            loop.schedule(afterNanoseconds: options.acceptBackoffNanoseconds) { [weak self] in
                guard let self, self.socket.isOpen else { return }
                self.paused = false
                self.loop.modify(descriptor: self.socket.descriptor, events: EpollFlag.readable)
            }
        default:
            onAcceptError(SocketError(code: code, operation: "accept"))
        }
    }
}

/// Stands in for the real handler while `makeHandler` runs (it may need the connection).
final class PlaceholderHandler: ConnectionHandler, @unchecked Sendable {
    static let shared = PlaceholderHandler()
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { 0 }
}
