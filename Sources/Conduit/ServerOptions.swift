/// How a `Server` listens and treats accepted connections.
public struct ServerOptions: Sendable {
    /// `listen()` backlog; the kernel caps it at `net.core.somaxconn`.
    public var backlog: Int32 = 4096
    /// Set `SO_REUSEPORT` so several loops (or processes) share the port. Needed when
    /// the group has more than one loop; on by default then.
    public var reusePort: Bool? = nil
    /// Disable Nagle's algorithm on accepted sockets.
    public var noDelay = true
    /// `SO_RCVBUF` for accepted sockets (nil: the kernel's default, which autotunes).
    public var receiveBufferSize: Int? = nil
    /// `SO_SNDBUF` for accepted sockets (nil: the kernel's default, which autotunes).
    public var sendBufferSize: Int? = nil
    /// Open connections allowed across all loops of the server; a connection beyond
    /// it gets `overLimitResponse` (if set) and is closed at once.
    public var maxConnections: Int? = nil
    /// Bytes sent to a connection refused for being over `maxConnections`.
    public var overLimitResponse: [UInt8]? = nil
    /// Close a connection after this long with nothing received (0: never).
    public var idleTimeoutNanoseconds: UInt64 = 0
    /// Run the loops' timeout sweep even without an idle timeout (for handlers that
    /// set `Connection.deadline`). On whenever `idleTimeoutNanoseconds` is set.
    public var sweepTimeouts = false
    /// How long accepting pauses after `EMFILE`/`ENFILE`.
    public var acceptBackoffNanoseconds: UInt64 = 100_000_000
    /// Queued output per connection above which its reading pauses.
    public var highWatermark = 1 << 20
    /// Queued output below which paused reading resumes.
    public var lowWatermark = 256 << 10

    /// The defaults.
    public init() {}
}
