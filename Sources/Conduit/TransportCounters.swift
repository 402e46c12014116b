/// What the connections of one event loop have done since it started. Each loop counts
/// on its own thread with plain integers — no atomics, nothing shared on the read/write
/// path — and ``EventLoopGroup/counters()`` adds the loops' counts up when asked.
///
/// For profiling the read/write loop: `wakeUps` and `events` give events per wake-up
/// (how much each `epoll_wait` amortizes), `receiveCalls`/`sendCalls` against requests
/// give system calls per request, the `WouldBlock` counts say how often the kernel had
/// nothing to give or no room to take, and `partialSends` how often output had to be
/// queued. Counting costs a few additions per system call (the instruction budget in
/// `Benchmarks/budgets.json` includes it).
public struct TransportCounters: Sendable, Equatable, Codable {
    /// Times the loop came back from `epoll_wait`.
    public var wakeUps = 0
    /// Readiness events those wake-ups delivered (wake-up tokens included).
    public var events = 0
    /// `recv` calls, `EAGAIN` and end of stream included.
    public var receiveCalls = 0
    /// `recv` calls that found nothing to read (`EAGAIN`).
    public var receivesWouldBlock = 0
    /// `send` and `writev` calls.
    public var sendCalls = 0
    /// `send`/`writev` calls the kernel refused for want of room (`EAGAIN`).
    public var sendsWouldBlock = 0
    /// Sends the kernel took only part of (the rest was queued).
    public var partialSends = 0
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
    /// `uring`: times a connection's receive found every provided buffer in use
    /// (`ENOBUFS`); it was armed again on a later turn.
    public var receiveBufferShortages = 0
    /// `uring`: turns after which completions waited in the kernel's overflow list
    /// because the completion queue was full (none are lost; the next turn takes them).
    public var completionOverflows = 0
    /// `uring`: turns the kernel refused for a transient reason (EAGAIN, ENOMEM, EBUSY);
    /// the loop paused briefly and tried again.
    public var ringRefusals = 0
    /// TLS handshakes completed (both ends count theirs).
    public var tlsHandshakes = 0
    /// Of those, handshakes that resumed an earlier session.
    public var tlsResumedHandshakes = 0
    /// TLS handshakes that failed (a refused certificate, a peer not speaking TLS).
    public var tlsHandshakeFailures = 0

    /// All zero.
    public init() {}

    /// Reads counts written by any version: a count the writer did not know is 0.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try values.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        wakeUps = try count(.wakeUps)
        events = try count(.events)
        receiveCalls = try count(.receiveCalls)
        receivesWouldBlock = try count(.receivesWouldBlock)
        sendCalls = try count(.sendCalls)
        sendsWouldBlock = try count(.sendsWouldBlock)
        partialSends = try count(.partialSends)
        connectionsAccepted = try count(.connectionsAccepted)
        connectionsRefused = try count(.connectionsRefused)
        connectionsClosed = try count(.connectionsClosed)
        bytesReceived = try count(.bytesReceived)
        bytesSent = try count(.bytesSent)
        readPausesForBackpressure = try count(.readPausesForBackpressure)
        readPausesForMemory = try count(.readPausesForMemory)
        receiveBufferShortages = try count(.receiveBufferShortages)
        completionOverflows = try count(.completionOverflows)
        ringRefusals = try count(.ringRefusals)
        tlsHandshakes = try count(.tlsHandshakes)
        tlsResumedHandshakes = try count(.tlsResumedHandshakes)
        tlsHandshakeFailures = try count(.tlsHandshakeFailures)
    }

    /// The two counts added field by field.
    public static func + (left: TransportCounters, right: TransportCounters) -> TransportCounters {
        var sum = left
        sum.wakeUps += right.wakeUps
        sum.events += right.events
        sum.receiveCalls += right.receiveCalls
        sum.receivesWouldBlock += right.receivesWouldBlock
        sum.sendCalls += right.sendCalls
        sum.sendsWouldBlock += right.sendsWouldBlock
        sum.partialSends += right.partialSends
        sum.connectionsAccepted += right.connectionsAccepted
        sum.connectionsRefused += right.connectionsRefused
        sum.connectionsClosed += right.connectionsClosed
        sum.bytesReceived += right.bytesReceived
        sum.bytesSent += right.bytesSent
        sum.readPausesForBackpressure += right.readPausesForBackpressure
        sum.readPausesForMemory += right.readPausesForMemory
        sum.receiveBufferShortages += right.receiveBufferShortages
        sum.completionOverflows += right.completionOverflows
        sum.ringRefusals += right.ringRefusals
        sum.tlsHandshakes += right.tlsHandshakes
        sum.tlsResumedHandshakes += right.tlsResumedHandshakes
        sum.tlsHandshakeFailures += right.tlsHandshakeFailures
        return sum
    }
}

extension TransportCounters: CustomStringConvertible {
    /// One line for people reading a server's status or a load report.
    public var description: String {
        let perWakeUp = wakeUps > 0 ? Double(events) / Double(wakeUps) : 0
        return "\(wakeUps) wake-ups (\((perWakeUp * 100).rounded() / 100) events each), "
            + "\(receiveCalls) receives (\(receivesWouldBlock) would block), "
            + "\(sendCalls) sends (\(sendsWouldBlock) would block, \(partialSends) partial), "
            + "\(bytesReceived) bytes in, \(bytesSent) bytes out, "
            + "\(readPausesForBackpressure) backpressure pauses, \(readPausesForMemory) memory pauses, "
            + "\(connectionsAccepted) accepted, \(connectionsRefused) refused, \(connectionsClosed) closed"
            + ringDescription + tlsDescription
    }
}

extension TransportCounters {
    /// The TLS counts, only where TLS ran, and where its records were encrypted.
    private var tlsDescription: String {
        guard tlsHandshakes + tlsHandshakeFailures > 0 else { return "" }
        return ", \(tlsHandshakes) TLS handshakes (\(tlsResumedHandshakes) resumed, \(tlsHandshakeFailures) failed), "
            + "records in \(TLSContext.recordLayer)"
    }

    /// The ring's own counts, only where something happened (they stay 0 on epoll).
    private var ringDescription: String {
        guard receiveBufferShortages + completionOverflows + ringRefusals > 0 else { return "" }
        return ", \(receiveBufferShortages) buffer shortages, \(completionOverflows) completion overflows, "
            + "\(ringRefusals) refused turns"
    }
}

extension EventLoopGroup {
    /// `counters()` for threads that may block (not a loop's own, not a task's).
    @available(*, noasync, message: "use counters()")
    public func syncCounters() -> TransportCounters {
        preconditionNotInAnyLoop("EventLoopGroup.syncCounters")
        let loops = self.loops
        return EventLoop.syncAsk(loops) { loops[$0].counters }.reduce(TransportCounters()) { $0 + ($1 ?? TransportCounters()) }
    }

    /// The counts of every loop, added up. Each loop reports from its own thread; a
    /// loop that has stopped reports nothing more.
    public func counters() async -> TransportCounters {
        let loops = self.loops
        return await EventLoop.ask(loops) { loops[$0].counters }.reduce(TransportCounters()) { $0 + ($1 ?? TransportCounters()) }
    }
}
