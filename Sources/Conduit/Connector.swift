import CShim
import Glibc

/// How an outgoing connection is made.
public struct ConnectOptions: Sendable {
    /// Disable Nagle's algorithm (TCP only; ignored for Unix domain sockets).
    public var noDelay: Bool
    /// `SO_RCVBUF` (nil: the kernel's default, which autotunes).
    public var receiveBufferSize: Int?
    /// `SO_SNDBUF` (nil: the kernel's default, which autotunes).
    public var sendBufferSize: Int?
    /// Bind to this local address (port 0) before connecting. With
    /// `IP_BIND_ADDRESS_NO_PORT` the kernel picks the port per destination at connect
    /// time, so each source address has its own ~28,000 ephemeral ports. For a Unix
    /// domain socket, a path of the same family gives the client a name its server sees.
    public var sourceAddress: SocketAddress?
    /// Whether the connection stops reading while its unsent output is high. Clients
    /// keep reading by default: see `ReadBackpressure` for why.
    public var backpressure: ReadBackpressure
    /// Speak TLS with this (client) context: the handler is told the connection opened
    /// once the handshake has completed, and sees plaintext. nil: plain.
    public var tls: TLSContext?
    /// The server's name for TLS (SNI, and the name its certificate must carry);
    /// nil: the context's `serverName`.
    public var tlsServerName: String?

    /// Options with every default spelled out; name only what you change.
    public init(
        noDelay: Bool = true, receiveBufferSize: Int? = nil, sendBufferSize: Int? = nil,
        sourceAddress: SocketAddress? = nil, backpressure: ReadBackpressure = .keepReading,
        tls: TLSContext? = nil, tlsServerName: String? = nil
    ) {
        self.tls = tls
        self.tlsServerName = tlsServerName
        self.noDelay = noDelay
        self.receiveBufferSize = receiveBufferSize
        self.sendBufferSize = sendBufferSize
        self.sourceAddress = sourceAddress
        self.backpressure = backpressure
    }
}

extension Connection {
    /// Starts a non-blocking connect to `address` on `loop` (like Python's
    /// `connect_ex`): returns at once; `handler.connectionDidOpen` runs when the
    /// connection is up, or `connectionDidClose` with the error (for example
    /// connection refused) when it fails. Must be called on `loop`'s thread.
    ///
    /// `address` may be a Unix socket path. A Unix connect is complete or refused at
    /// once; when the server's accept queue is full it fails with `EAGAIN` (TCP would
    /// retry for seconds).
    ///
    /// Throws only when no socket can be made or bound (out of descriptors, a bad
    /// source address); output written before the connection opens is queued.
    @discardableResult
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, options: ConnectOptions = ConnectOptions(),
        handler: ConnectionHandler
    ) throws(SocketError) -> Connection {
        loop.assertInLoop()
        guard !loop.hasFinished else { throw SocketError(.loopStopped, operation: "connect") }
        var session: TLSSession?
        if let context = options.tls {
            session = context.makeSession(serverName: options.tlsServerName)
            if session == nil {
                throw SocketError(.tls, operation: "TLS: no session could be made: \(TLSContext.lastError())")
            }
        }
        let socket = try Socket.open(family: address.family, calls: loop.calls)
        if options.noDelay && address.isIP { try socket.setNoDelay() }
        try socket.setBufferSizes(receive: options.receiveBufferSize, send: options.sendBufferSize)
        if let source = options.sourceAddress {
            if source.isIP {
                try socket.setOption(Int32(IPPROTO_IP), IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT")
            }
            let bound = source.withSockAddr { bind(socket.descriptor, $0, $1) }
            if bound < 0 { throw SocketError(code: errno, operation: "bind \(source)") }
        }
        let connection = Connection(loop: loop, socket: socket, handler: handler, connecting: true)
        connection.backpressure = options.backpressure
        connection.tls = session
        let outcome = IOResult.retryingInterrupts {
            address.withSockAddr { loop.calls.connect(socket.descriptor, $0, $1) }
        }
        switch outcome {
        case .processed, .failed(EINPROGRESS):
            try connection.start()
        case .wouldBlock where !address.isIP:
            connection.reportConnectFailure(
                SocketError(code: EAGAIN, operation: "connect \(address): the server's accept queue is full"))
        case .wouldBlock:
            // EAGAIN from connect: out of local ports for this destination.
            connection.reportConnectFailure(SocketError(code: EAGAIN, operation: "connect"))
        case .failed(let code):
            connection.reportConnectFailure(SocketError(code: code, operation: "connect"))
        }
        return connection
    }

    /// Reports an immediate connect failure the same way as a later one: from the
    /// loop, after `connect` has returned the connection to its caller.
    private func reportConnectFailure(_ error: SocketError) {
        loop.schedule(afterNanoseconds: 0) { self.failConnect(error) }
    }
}
