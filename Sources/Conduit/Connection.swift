import Glibc

/// A stream connection (TCP or a Unix domain socket) registered on one event loop.
///
/// Read path: the loop's transport receives into a buffer of the loop's (epoll) or of
/// its ring (io_uring) and hands the handler a view of it; only an unconsumed tail is
/// copied into this connection's `inbound` buffer. Write path: `write` sends at once
/// where the transport can (epoll); only what the kernel does not take is queued.
/// Output written while the handler is processing input is gathered in the loop's one
/// gather buffer and sent with one call when the handler returns; again only an unsent
/// rest is copied into this connection's `outbound` buffer. Both buffers are made on
/// first use, so a connection that is not mid-message or backpressured holds no buffer
/// at all. `backpressure` says whether reading pauses while queued output is high.
///
/// How bytes move is the transport's business (`Transport`): this class holds the
/// state, the buffers and the handler contract, the same on every backend.
///
/// Loop-confined: not `Sendable`. Use it on its loop's thread (debug builds check every
/// call); to reach it from elsewhere, carry it in a `LoopBound` into `loop.execute`.
public final class Connection: Selectable {
    /// The loop this connection lives on. Strong, not `unowned`: every access to an
    /// `unowned` reference is an atomic strong retain and release (four per request on
    /// the read/write path). The cycle with the loop's registry ends when the connection
    /// closes and is deregistered, which every close does.
    public let loop: EventLoop
    let socket: Socket
    /// The connection's TLS session, when it carries TLS: handlers see plaintext, the
    /// transport ciphertext (see ConnectionTLS.swift). Ended when the connection closes.
    @exclusivity(unchecked) var tls: TLSSession?
    /// The application handler; released when the connection closes.
    @exclusivity(unchecked) public internal(set) var handler: ConnectionHandler?
    // Made on first use: most connections never keep input or output of their own.
    @exclusivity(unchecked) var inbound = OnDemandBuffer()
    @exclusivity(unchecked) var outbound = OnDemandBuffer()
    /// Output handed to the transport and not yet confirmed sent: the ring's send in
    /// flight, whose bytes must stay where they are until it completes (new output
    /// queues in `outbound` meanwhile). Always empty on epoll, which sends at once.
    @exclusivity(unchecked) var inFlight = OnDemandBuffer()
    // The hot mutable state below is marked `@exclusivity(unchecked)`: Swift otherwise
    // checks each access to a class's stored property at run time (about 80
    // instructions each, 8 per echoed message). Safe by construction: it is used on
    // the loop's thread only, and no access spans a call out to a handler.
    @exclusivity(unchecked) var state: ConnectionState
    /// What this connection has asked of its loop's transport (only the transport
    /// reads or writes it).
    @exclusivity(unchecked) var io = TransportSlot()
    /// `replaceHandler` was called during the handler callback running now: what
    /// follows the callback is told to the new handler, not the one the delivery holds.
    @exclusivity(unchecked) var handlerReplaced = false
    /// A handler callback is running: what it writes is gathered, and sent when it returns.
    @exclusivity(unchecked) var gathering = false
    /// A handler is reading input offered from `inbound`: a close meanwhile must not
    /// free that storage under it (it is released when the callback returns).
    @exclusivity(unchecked) var offeringInbound = false
    /// The peer's end of stream arrived while reading was paused (input that was already
    /// in flight when the pause began); it is told to the handler once reading resumes,
    /// after any input kept meanwhile.
    @exclusivity(unchecked) var endPending = false
    /// Input arrived while the application had paused reading and was kept without
    /// being offered to the handler; it is offered once reading resumes.
    @exclusivity(unchecked) var keptWhilePaused = false
    /// A `resumeKeptInput` is scheduled.
    @exclusivity(unchecked) var resumeScheduled = false
    /// True once a server's graceful stop asked this connection to finish.
    public internal(set) var isQuiescing = false
    var pauseAbove = Int.max
    var resumeBelow = Int.max
    /// The server that accepted this connection (nil for outgoing ones); it is told
    /// when the connection closes and closes only what it owns.
    let server: ServerConnections?
    /// The server's memory budget, charged with this connection's buffers.
    let budget: MemoryBudget?
    /// Bytes this connection has charged to `budget`.
    @exclusivity(unchecked) var charged = 0
    /// Input bytes announced and not yet arrived (`reserveInput`).
    @exclusivity(unchecked) var inputReservation = 0
    /// Nanoseconds of silence after which the connection idles (0: never).
    var idleNanoseconds: UInt64 = 0
    /// Monotonic nanoseconds by which the handler wants something to have happened; 0: none.
    @exclusivity(unchecked) var deadlineNanoseconds: UInt64 = 0
    /// When bytes last moved either way: arrived, or were taken by the kernel to send
    /// (the loop's time of that iteration).
    @exclusivity(unchecked) var lastActivity: UInt64
    /// How long a graceful close drains the peer's input at most.
    var drainLimitNanoseconds: UInt64 = 0
    /// The drain limit a server's graceful stop gave (`quiesce`), for `finishQuiescing`.
    var quiesceDrainLimitNanoseconds: UInt64 = 2_000_000_000

    init(loop: EventLoop, socket: Socket, handler: ConnectionHandler, connecting: Bool, server: ServerConnections? = nil) {
        self.loop = loop
        self.socket = socket
        self.handler = handler
        self.state = ConnectionState(connecting: connecting)
        self.server = server
        self.budget = server?.memory
        self.lastActivity = loop.now
    }

    var owner: AnyObject? { server }

    /// The peer's address, looked up once on first use (so it is still known after close).
    /// A Unix peer that never bound a path is `unix:(unnamed)`; see `peerDescription`.
    public private(set) lazy var peerAddress: SocketAddress? = socket.peerAddress()
    /// The process ID of a Unix domain socket's peer (`SO_PEERCRED`: the process that
    /// connected to us, or the one we connected to), looked up once on first use; nil
    /// for TCP.
    public private(set) lazy var peerProcessID: Int32? = socket.peerProcessID()
    /// The socket descriptor (for diagnostics such as queue sizes); -1 once closed.
    public var descriptor: Int32 { socket.descriptor }
    /// True until the connection is closed.
    public var isOpen: Bool { state.phase != .closed }
    /// Bytes queued for sending that the kernel has not taken yet.
    public var pendingOutputBytes: Int { outbound.count + inFlight.count + gatheredCount }

    /// Output is queued that the kernel has not taken yet (in `outbound`, or handed to
    /// the transport and not confirmed).
    var hasQueuedOutput: Bool {
        @inline(__always) get { !outbound.isEmpty || !inFlight.isEmpty }
    }
    /// True while reading is paused because queued output is high.
    public var isReadPaused: Bool { state.pausedByBackpressure }
    /// Bytes received and not yet consumed by the handler (an incomplete message).
    public var unconsumedInputBytes: Int { inbound.count }
    /// Calls `body` with the bytes received and not yet consumed, valid only during the
    /// call, on the loop's thread: at the end of the stream, a handler whose messages end
    /// at the close (`UntilCloseFraming`) reads the last one here.
    public func withUnconsumedInput<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(inbound.readableBytes)
    }
    /// The kernel's Recv-Q and Send-Q for this socket.
    public func kernelQueueSizes() -> (receive: Int, send: Int) { socket.queueSizes() }

    /// Whether reading pauses while this connection's unsent output is high. Servers
    /// default to `.serverDefault`, outgoing connections to `.keepReading`.
    public var backpressure: ReadBackpressure {
        // Kept as its two thresholds only (a stored enum would cost every connection
        // 24 bytes more): `keepReading` is the one case with both at `Int.max`.
        get { pauseAbove == .max && resumeBelow == .max ? .keepReading : .pauseReading(above: pauseAbove, resumeBelow: resumeBelow) }
        set {
            (pauseAbove, resumeBelow) = newValue.thresholds
            updateBackpressure()
        }
    }

    /// Close after this long with nothing received and nothing sent (`.zero`: never;
    /// output waiting for a peer that does not read does not count as sent). Checked by the
    /// loop's timeout sweep (`EventLoop.enableTimeoutSweep`), so precise to its interval.
    public var idleTimeout: Duration {
        get { .nanoseconds(Int64(clamping: idleNanoseconds)) }
        set { idleNanoseconds = newValue.nanoseconds }
    }

    /// Asks for `connectionDeadlinePassed` once `delay` has passed (for example
    /// "a complete header within 10 s"), replacing any earlier deadline. Checked by the
    /// timeout sweep, so precise to its interval.
    public func setDeadline(after delay: Duration) {
        loop.assertInLoop()
        let (sum, overflow) = loop.now.addingReportingOverflow(delay.nanoseconds)
        deadlineNanoseconds = overflow ? .max : max(sum, 1)
    }

    /// Removes the deadline.
    public func clearDeadline() { deadlineNanoseconds = 0 }

    /// True while a deadline is set and has not passed yet.

    // MARK: opening

    func start() throws(SocketError) {
        guard !loop.hasFinished else { throw SocketError(.loopStopped, operation: "register") }
        try loop.transport.register(self)
    }

    /// Tells the handler; what it writes meanwhile goes out in one send afterwards. A TLS
    /// connection tells it only once its handshake has completed.
    func didOpen() {
        if let tls, !tls.isEstablished {
            beginHandshake(tls)
            return
        }
        tellHandlerOpened()
    }

    func tellHandlerOpened() {
        gathering = true
        handler?.connectionDidOpen(self)
        finishDelivery()
    }

    /// The transport says a connect in progress has an answer: open, or refused.
    func connectFinished() {
        let pending = loop.calls.pendingError(socket.descriptor)
        guard pending == 0 else {
            let code = pending < 0 ? Int32(-pending) : Int32(pending)
            fail(SocketError(code: code, operation: "connect"))
            return
        }
        state.phase = .open
        state.outputQueued = hasQueuedOutput
        applyInterest()
        guard state.phase == .open else { return }
        didOpen()
    }

    // MARK: writing

    /// Sends `bytes` now if the kernel takes them, else queues the rest (copied).
    /// Never blocks. Ignored once the connection is closing or closed.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        loop.assertInLoop()
        guard state.acceptsWrites else { return }
        if claimGather() {
            loop.gather.append(bytes)
            return
        }
        if tls != nil {
            writePlaintext(bytes, tls.unsafelyUnwrapped)
            return
        }
        if gathering || state.phase == .connecting || hasQueuedOutput {
            outbound.append(bytes)
            if !gathering { updateBackpressure() }
            return
        }
        guard let sent = sendNow(bytes) else { return }
        if sent < bytes.count {
            outbound.append(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
            updateBackpressure()
        }
    }

    /// Sends `bytes`; see `write(_:)`.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Sends `header` then `body` with one `writev` when nothing is queued, without
    /// first copying them together (large payloads stay where they are).
    public func write(_ header: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) {
        loop.assertInLoop()
        guard state.phase == .open, !gathering, !hasQueuedOutput, tls == nil else {
            write(header)
            write(body)
            return
        }
        guard let sent = loop.transport.send(self, header, body) else { return }
        if sent > 0 { lastActivity = loop.now }
        guard sent < header.count + body.count else { return }
        if sent < header.count {
            outbound.append(UnsafeRawBufferPointer(rebasing: header[sent...]))
            outbound.append(body)
        } else {
            outbound.append(UnsafeRawBufferPointer(rebasing: body[(sent - header.count)...]))
        }
        updateBackpressure()
    }

    /// Calls `body` with room for up to `capacity` bytes at the end of the output
    /// queue; `body` returns how many it wrote. Lets encoders write in place. The bytes
    /// go out with the next flush (at once when called outside a read callback).
    /// A count outside `0...capacity` breaks the contract: nothing is sent and the
    /// connection closes with `SocketError.Kind.misuse`.
    public func writeInPlace(capacity: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        loop.assertInLoop()
        guard state.acceptsWrites, capacity >= 0 else { return }
        let gathered = claimGather()
        if !gathered, tls != nil {
            writeInPlaceEncrypted(capacity: capacity, tls.unsafelyUnwrapped, body)
            return
        }
        let room = gathered ? loop.gather.reserve(capacity) : outbound.reserve(capacity)
        let written = body(UnsafeMutableRawBufferPointer(start: room, count: capacity))
        guard written >= 0 && written <= capacity else {
            fail(SocketError(.misuse, operation: "writeInPlace wrote \(written) bytes into room for \(capacity)"))
            return
        }
        if gathered {
            loop.gather.commit(written)
            return
        }
        outbound.commit(written)
        recharge()
        if !gathering && state.phase == .open && !state.outputQueued { flush() }
    }

    /// Sends from `bytes` until done or the kernel takes no more; returns bytes sent, or
    /// nil after a fatal error (the connection is then closed).
    @inline(__always)
    private func sendNow(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let sent = loop.transport.send(self, bytes) else { return nil }
        if sent > 0 { lastActivity = loop.now }
        return sent
    }

    /// True when this connection's output may go to the loop's shared gather buffer
    /// (taking it if free): its handler is running, nothing of its own is queued
    /// (order), it is open, and no other connection's output is there (a handler can
    /// make another connection's handler run, through `resumeReading`).
    @inline(__always)
    private func claimGather() -> Bool {
        guard gathering, !hasQueuedOutput, state.phase == .open else { return false }
        let me = ObjectIdentifier(self)
        if let owner = loop.gatherOwner { return owner == me }
        loop.gatherOwner = me
        return true
    }

    /// Bytes of this connection's output in the loop's gather buffer.
    private var gatheredCount: Int { loop.gatherOwner == ObjectIdentifier(self) ? loop.gather.count : 0 }

    /// Moves this connection's gathered output into its own buffer (before a close or a
    /// shutdown, which then go their usual way) or, with `sending`, sends it and keeps
    /// only what the kernel did not take. Gives the gather buffer back either way.
    /// Returns true when it sent something.
    @discardableResult
    func releaseGathered(sending: Bool) -> Bool {
        guard loop.gatherOwner == ObjectIdentifier(self) else { return false }
        loop.gatherOwner = nil
        let loop = self.loop
        defer { loop.gather.clear() }
        guard !loop.gather.isEmpty, state.phase == .open || state.phase == .closing else { return false }
        if tls != nil { return releaseGatheredPlaintext(loop.gather.readableBytes, tls.unsafelyUnwrapped, sending: sending) }
        var sent = 0
        if sending && !hasQueuedOutput {
            guard let count = sendNow(loop.gather.readableBytes) else { return false }
            sent = count
        }
        if sent < loop.gather.count {
            outbound.append(UnsafeRawBufferPointer(rebasing: loop.gather.readableBytes[sent...]))
            updateBackpressure()
        }
        return sent > 0
    }

    /// Sends queued output; the transport is asked to finish what the kernel does not
    /// take now (epoll waits for room; the ring sends it in the background).
    func flush() {
        guard !outbound.isEmpty else { return }
        guard let sent = inFlight.isEmpty ? sendNow(outbound.readableBytes) : 0 else { return }
        outbound.consume(sent)
        updateBackpressure()
        guard !hasQueuedOutput else { return }
        outputDrained()
    }

    /// The transport says the socket has room again: send what is queued.
    func becameWritable() { flush() }

    /// Everything queued has gone to the kernel: a shutdown or close that waited for
    /// it happens now, and the handler hears of it.
    func outputDrained() {
        if outputDrainedTellsHandler() { handler?.connectionDidDrain(self) }
    }

    /// `outputDrained`'s work before the handler hears of it; true when it is to (the
    /// caller tells it, with the handler it may already hold).
    func outputDrainedTellsHandler() -> Bool {
        guard state.phase != .closed else { return false }
        if state.shutdownAfterFlush {
            state.shutdownAfterFlush = false
            _ = Glibc.shutdown(socket.descriptor, Int32(SHUT_WR))
        }
        if state.phase == .closing {
            if state.drainAfterFlush { beginDraining() } else { finishClose(error: nil) }
            return false
        }
        return true
    }

    // MARK: output handed to the transport (the ring's sends)

    /// True when output is queued and none is with the transport.
    var hasOutputToHandOver: Bool { !outbound.isEmpty && inFlight.isEmpty }

    /// Gives the queued output to the transport: it moves to `inFlight`, where it stays
    /// put until the transport says it was sent. Returns its bytes.
    func handOverQueuedOutput() -> UnsafeRawBufferPointer {
        swap(&inFlight, &outbound)
        return inFlight.readableBytes
    }

    /// The transport sent `count` bytes of what it was given; returns what is left of it
    /// (empty when all of it went).
    func handedOverSent(_ count: Int) -> UnsafeRawBufferPointer {
        if count > 0 { lastActivity = loop.now }
        inFlight.consume(count)
        return inFlight.readableBytes
    }

    /// Everything handed over was sent: the next queued output may go, reading may
    /// resume, and a close or shutdown that waited happens.
    func handedOverDrained() {
        // Starts the next send if more was queued meanwhile; resumes reading if it paused.
        updateBackpressure()
        if !hasQueuedOutput { outputDrained() }
    }

    /// Takes back the storage of output still with the transport, for a close (the
    /// transport keeps it alive until the kernel is done with it).
    func detachHandedOver() -> ByteBuffer? { inFlight.detach() }

    // MARK: interest

    func updateBackpressure() {
        let wasPaused = state.pausedByBackpressure
        state.applyBackpressure(queued: outbound.count + inFlight.count, pauseAbove: pauseAbove, resumeBelow: resumeBelow)
        if state.pausedByBackpressure && !wasPaused { loop.counters.readPausesForBackpressure += 1 }
        recharge()
        applyInterest()
    }

    /// Brings this connection's charge to the server's memory budget up to date: the
    /// storage its buffers hold, counting input at least as large as announced.
    @inline(__always)
    func recharge() {
        guard budget != nil else { return }
        var now = max(inbound.capacity, inputReservation) + outbound.capacity + inFlight.capacity
        if tls != nil { now += tls.unsafelyUnwrapped.bufferedBytes }
        // Bound only here, after the call into the TLS glue: bound before it, the budget
        // was retained and released on every delivery.
        guard now != charged, let budget else { return }
        budget.adjust(by: now - charged)
        let gaveBack = now < charged
        charged = now
        if gaveBack && budget.allowsResuming { loop.resumePausedForMemory() }
    }

    /// Has the transport do what the state wants now (read or not, send, wait for a
    /// connect), and offers input kept during a pause once reading resumes.
    func applyInterest() {
        guard io.isRegistered, state.phase != .closed else { return }
        loop.transport.update(self)
        if ((state.wantsToRead && endPending) || (keptWhilePaused && mayOfferKeptInput)) && !resumeScheduled {
            scheduleResume()
        }
    }

    /// The transport failed for this connection alone (epoll refused a change, a send
    /// failed): it closes with that error.
    func transportFailed(_ error: SocketError) { fail(error) }
}

extension Connection {
    /// Tells the server's memory budget (`ServerOptions.memoryBudget`) that this
    /// connection is about to buffer up to `bytes` of input — a message whose size its
    /// header announced — so that many large messages cannot be started at once and
    /// only then fill memory. Returns false, reserving nothing, when the budget cannot
    /// cover it now: refuse the message rather than wait for it. 0 ends the reservation
    /// (also ended by the close). Always true for a connection without a budget.
    public func reserveInput(_ bytes: Int) -> Bool {
        loop.assertInLoop()
        guard let budget else { return true }
        let wanted = max(bytes, 0)
        let extra = max(inbound.capacity, wanted) - max(inbound.capacity, inputReservation)
        if extra > 0 && !budget.tryAdd(extra) { return false }
        if extra > 0 { charged += extra }
        inputReservation = wanted
        recharge()
        return true
    }

    /// Swaps the handler (for example once a protocol is chosen). Call on the loop.
    public func replaceHandler(_ newHandler: ConnectionHandler) {
        loop.assertInLoop()
        guard isOpen else { return }
        handler = newHandler
        handlerReplaced = true
    }
}
