import CShim
import Glibc

/// How an outgoing connection is made.
public struct ConnectOptions: Sendable {
    /// Disable Nagle's algorithm.
    public var noDelay = true
    /// `SO_RCVBUF` (nil: the kernel's default, which autotunes).
    public var receiveBufferSize: Int? = nil
    /// `SO_SNDBUF` (nil: the kernel's default, which autotunes).
    public var sendBufferSize: Int? = nil
    /// Bind to this local address (port 0) before connecting. With
    /// `IP_BIND_ADDRESS_NO_PORT` the kernel picks the port per destination at connect
    /// time, so each source address has its own ~28,000 ephemeral ports.
    public var sourceAddress: SocketAddress? = nil
    /// Queued output above which reading pauses.
    public var highWatermark = 1 << 20
    /// Queued output below which paused reading resumes.
    public var lowWatermark = 256 << 10

    /// The defaults.
    public init() {}
}

extension Connection {
    /// Starts a non-blocking connect to `address` on `loop` (like Python's
    /// `connect_ex`): returns at once; `handler.connectionDidOpen` runs when the
    /// connection is up, or `connectionDidClose` with the error (for example
    /// connection refused) when it fails. Must be called on `loop`'s thread.
    ///
    /// Throws only when no socket can be made or bound (out of descriptors, a bad
    /// source address); output written before the connection opens is queued.
    @discardableResult
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, options: ConnectOptions = ConnectOptions(),
        handler: ConnectionHandler
    ) throws(SocketError) -> Connection {
        let socket = try Socket.open(family: address.family, calls: loop.calls)
        if options.noDelay { try socket.setNoDelay() }
        try socket.setBufferSizes(receive: options.receiveBufferSize, send: options.sendBufferSize)
        if let source = options.sourceAddress {
            try socket.setOption(Int32(IPPROTO_IP), IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT")
            let bound = source.withSockAddr { bind(socket.descriptor, $0, $1) }
            if bound < 0 { throw SocketError(code: errno, operation: "bind \(source)") }
        }
        let connection = Connection(loop: loop, socket: socket, handler: handler, connecting: true)
        connection.highWatermark = options.highWatermark
        connection.lowWatermark = options.lowWatermark
        var raw: Int
        repeat {
            raw = address.withSockAddr { loop.calls.connect(socket.descriptor, $0, $1) }
        } while raw == -Int(EINTR)
        if raw == 0 || raw == -Int(EINPROGRESS) {
            try connection.start(events: EpollFlag.writable)
        } else {
            // Report an immediate failure the same way as a later one, from the loop.
            let error = SocketError(code: Int32(-raw), operation: "connect")
            loop.schedule(afterNanoseconds: 0) { connection.failConnect(error) }
        }
        return connection
    }
}
