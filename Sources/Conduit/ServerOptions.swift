/// How a `Server` listens and treats accepted connections.
public struct ServerOptions: Sendable {
    /// `listen()` backlog; the kernel caps it at `net.core.somaxconn`. A Unix client
    /// that finds it full fails at once (`EAGAIN`) where TCP would retry.
    public var backlog: Int32
    /// Set `SO_REUSEPORT` so several loops (or processes) share the port. Needed when
    /// the group has more than one loop; on by default then. TCP only: the loops of a
    /// Unix socket server, or of an adopted descriptor, share one listening socket.
    public var reusePort: Bool?
    /// Disable Nagle's algorithm on accepted sockets (TCP only; Unix sockets have none).
    public var noDelay: Bool
    /// `SO_RCVBUF` for accepted sockets (nil: the kernel's default, which autotunes).
    public var receiveBufferSize: Int?
    /// `SO_SNDBUF` for accepted sockets (nil: the kernel's default, which autotunes).
    public var sendBufferSize: Int?
    /// Open connections allowed across all loops of the server; a connection beyond
    /// it gets `overLimitResponse` (if set) and is closed at once.
    public var maxConnections: Int?
    /// Bytes sent to a connection refused for being over `maxConnections`.
    public var overLimitResponse: [UInt8]?
    /// Close a connection after this long with nothing received and none of its queued
    /// output taken by the peer (`.zero`: never).
    public var idleTimeout: Duration
    /// Run the loops' timeout sweep even without an idle timeout (for handlers that
    /// set deadlines). On whenever `idleTimeout` is set.
    public var sweepTimeouts: Bool
    /// How long accepting pauses after `EMFILE`/`ENFILE`.
    public var acceptBackoff: Duration
    /// Whether an accepted connection stops reading while its unsent output is high.
    public var backpressure: ReadBackpressure
    /// Bytes all connections together may hold in buffers (input of incomplete
    /// messages and reservations for them, unsent output); above it they stop reading
    /// until use falls to three quarters of it. nil: no server-wide limit.
    public var memoryBudget: Int?
    /// The permission bits of the socket file a server on a Unix socket path creates
    /// (for example `0o600`: this user only), set before it listens, so no other user
    /// can connect in between. nil: what the process's umask leaves (0777 & ~umask).
    public var unixSocketMode: UInt32?
    /// Serve TLS with this context: every accepted connection does its handshake
    /// before its handler is told it opened, and the handler sees plaintext. nil: plain.
    public var tls: TLSContext?
    /// How long an accepted connection's TLS handshake may take before it is closed
    /// (`.zero`: no limit); a client that trickles its hello cannot hold a connection.
    public var tlsHandshakeTimeout: Duration

    /// Options with every default spelled out; name only what you change.
    public init(
        backlog: Int32 = 4096, reusePort: Bool? = nil, noDelay: Bool = true, receiveBufferSize: Int? = nil,
        sendBufferSize: Int? = nil, maxConnections: Int? = nil, overLimitResponse: [UInt8]? = nil,
        idleTimeout: Duration = .zero, sweepTimeouts: Bool = false, acceptBackoff: Duration = .milliseconds(100),
        backpressure: ReadBackpressure = .serverDefault, memoryBudget: Int? = nil, unixSocketMode: UInt32? = nil,
        tls: TLSContext? = nil, tlsHandshakeTimeout: Duration = .seconds(10)
    ) {
        self.tls = tls
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.backlog = backlog
        self.reusePort = reusePort
        self.noDelay = noDelay
        self.receiveBufferSize = receiveBufferSize
        self.sendBufferSize = sendBufferSize
        self.maxConnections = maxConnections
        self.overLimitResponse = overLimitResponse
        self.idleTimeout = idleTimeout
        self.sweepTimeouts = sweepTimeouts
        self.acceptBackoff = acceptBackoff
        self.backpressure = backpressure
        self.memoryBudget = memoryBudget
        self.unixSocketMode = unixSocketMode
    }
}
