/// What the connections of one event loop have done since it started. Each loop counts
/// on its own thread with plain integers — no atomics, nothing shared on the read/write
/// path — and ``EventLoopGroup/counters()`` adds the loops' counts up when asked.
public struct TransportCounters: Sendable, Equatable {
    /// Connections a server accepted and opened.
    public var connectionsAccepted = 0
    /// Connections a server refused for being over `ServerOptions.maxConnections`.
    public var connectionsRefused = 0
    /// Connections closed, accepted or outgoing, for whatever reason.
    public var connectionsClosed = 0
    /// Bytes read from peers.
    public var bytesReceived = 0
    /// Bytes the kernel took to send to peers.
    public var bytesSent = 0
    /// Times a connection stopped reading because its own unsent output was high.
    public var readPausesForBackpressure = 0
    /// Times a connection stopped reading because its server was over its memory budget.
    public var readPausesForMemory = 0

    /// All zero.
    public init() {}

    /// The two counts added field by field.
    public static func + (left: TransportCounters, right: TransportCounters) -> TransportCounters {
        var sum = left
        sum.connectionsAccepted += right.connectionsAccepted
        sum.connectionsRefused += right.connectionsRefused
        sum.connectionsClosed += right.connectionsClosed
        sum.bytesReceived += right.bytesReceived
        sum.bytesSent += right.bytesSent
        sum.readPausesForBackpressure += right.readPausesForBackpressure
        sum.readPausesForMemory += right.readPausesForMemory
        return sum
    }
}

extension EventLoopGroup {
    /// The counts of every loop, added up. Each loop reports from its own thread; a
    /// loop that has stopped reports nothing more.
    public func counters() async -> TransportCounters {
        var total = TransportCounters()
        for loop in loops {
            let counted: TransportCounters? = await withCheckedContinuation { continuation in
                do throws(SocketError) {
                    try loop.execute { continuation.resume(returning: loop.counters) }
                } catch {
                    continuation.resume(returning: nil)
                }
            }
            if let counted { total = total + counted }
        }
        return total
    }
}
