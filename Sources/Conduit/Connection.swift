import Glibc

/// A TCP connection registered on one event loop.
///
/// Read path: the loop receives into its own buffer and hands the handler a view of
/// it; only an unconsumed tail is copied into this connection's `inbound` buffer.
/// Write path: `write` sends at once; only what the kernel does not take (`EAGAIN`)
/// is queued, and only then is `EPOLLOUT` requested. Output written while the handler
/// is processing input is gathered in the loop's one gather buffer and sent with one
/// call when the handler returns; again only an unsent rest is copied into this
/// connection's `outbound` buffer. Both buffers are made on first use, so a connection
/// that is not mid-message or backpressured holds no buffer at all.
/// `backpressure` says whether reading pauses while queued output is high.
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
    /// The application handler; released when the connection closes.
    @exclusivity(unchecked) public internal(set) var handler: ConnectionHandler?
    // Made on first use: most connections never keep input or output of their own.
    @exclusivity(unchecked) private var inbound = OnDemandBuffer()
    @exclusivity(unchecked) private var outbound = OnDemandBuffer()
    /// `uring` backend: the output the ring is sending now. It must stay where it is
    /// until the send completes, so new output queues in `outbound` meanwhile.
    @exclusivity(unchecked) private var inFlight = OnDemandBuffer()
    @exclusivity(unchecked) private var ringSendInFlight = false
    // The hot mutable state below is marked `@exclusivity(unchecked)`: Swift otherwise
    // checks each access to a class's stored property at run time (about 80
    // instructions each, 8 per echoed message). Safe by construction: it is used on
    // the loop's thread only, and no access spans a call out to a handler.
    @exclusivity(unchecked) private var state: ConnectionState
    /// The events epoll watches for now (kept equal to `state.interest` once registered).
    @exclusivity(unchecked) private var interest: UInt32 = 0
    @exclusivity(unchecked) private var registered = false
    @exclusivity(unchecked) private var gathering = false
    /// The `uring` backend's multishot receive for this connection (always idle on the
    /// epoll backends).
    @exclusivity(unchecked) private var ringReceive = RingReceive.idle
    /// The peer's end of stream came through the ring while reading was paused; it is
    /// told to the handler once reading resumes, after the input kept meanwhile.
    @exclusivity(unchecked) private var ringEndPending = false
    /// Input came through the ring while reading was paused and was kept without being
    /// offered to the handler; it is offered once reading resumes, whatever resumed it.
    @exclusivity(unchecked) private var ringKeptInput = false
    /// A `resumeFromRing` is scheduled.
    @exclusivity(unchecked) private var ringResumeScheduled = false
    /// This registration's token (its ring operations carry it).
    @exclusivity(unchecked) private var token: UInt64 = 0
    /// True once a server's graceful stop asked this connection to finish.
    public private(set) var isQuiescing = false
    private var pauseAbove = Int.max
    private var resumeBelow = Int.max
    /// The server that accepted this connection (nil for outgoing ones); it is told
    /// when the connection closes and closes only what it owns.
    let server: ServerConnections?
    /// The server's memory budget, charged with this connection's buffers.
    private let budget: MemoryBudget?
    /// Bytes this connection has charged to `budget`.
    @exclusivity(unchecked) private var charged = 0
    /// Input bytes announced and not yet arrived (`reserveInput`).
    @exclusivity(unchecked) private var inputReservation = 0
    /// Nanoseconds of silence after which the connection idles (0: never).
    private var idleNanoseconds: UInt64 = 0
    /// Monotonic nanoseconds by which the handler wants something to have happened; 0: none.
    @exclusivity(unchecked) private var deadlineNanoseconds: UInt64 = 0
    /// When bytes last moved either way: arrived, or were taken by the kernel to send
    /// (the loop's time of that iteration).
    @exclusivity(unchecked) private var lastActivity: UInt64
    /// How long a graceful close drains the peer's input at most.
    private var drainLimitNanoseconds: UInt64 = 0
    /// The drain limit a server's graceful stop gave (`quiesce`), for `finishQuiescing`.
    private var quiesceDrainLimitNanoseconds: UInt64 = 2_000_000_000

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

    /// Output is queued that the kernel has not taken yet (in `outbound`, or in a send
    /// the ring has not completed).
    private var hasQueuedOutput: Bool { !outbound.isEmpty || ringSendInFlight }
    /// True while reading is paused because queued output is high.
    public var isReadPaused: Bool { state.pausedByBackpressure }
    /// Bytes received and not yet consumed by the handler (an incomplete message).
    public var unconsumedInputBytes: Int { inbound.count }
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
    public var hasDeadline: Bool { deadlineNanoseconds != 0 }

    // MARK: opening

    func start() throws(SocketError) {
        interest = epollInterest
        token = try loop.register(self, descriptor: socket.descriptor, events: interest)
        registered = true
        updateRingReceive()
    }

    /// Tells the handler; what it writes meanwhile goes out in one send afterwards.
    func didOpen() {
        gathering = true
        handler?.connectionDidOpen(self)
        finishDelivery()
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
        if gathering || state.phase == .connecting || !outbound.isEmpty {
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
        guard state.phase == .open, !gathering, outbound.isEmpty, loop.ring == nil else {
            write(header)
            write(body)
            return
        }
        let total = header.count + body.count
        var vectors = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
        )
        let outcome = IOResult.retryingInterrupts {
            withUnsafePointer(to: &vectors) {
                $0.withMemoryRebound(to: iovec.self, capacity: 2) { loop.calls.writev(socket.descriptor, $0, 2) }
            }
        }
        var sent = 0
        loop.counters.sendCalls += 1
        switch outcome {
        case .processed(let count):
            sent = count
            loop.counters.bytesSent += count
            if count < total { loop.counters.partialSends += 1 }
        case .wouldBlock: loop.counters.sendsWouldBlock += 1
        case .failed(let code):
            fail(SocketError(code: code, operation: "writev"))
            return
        }
        guard sent < total else { return }
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
        if !gathering && state.phase == .open && interest & EpollFlag.writable == 0 { flush() }
    }

    /// Sends from `bytes` until done or `EAGAIN`; returns bytes sent, or nil after a
    /// fatal error (the connection is then closed).
    private func sendNow(_ bytes: UnsafeRawBufferPointer) -> Int? {
        // With the ring nothing is sent here: the caller queues the bytes, and the ring
        // sends them with the turn's other operations (`updateRingSend`).
        if loop.ring != nil { return 0 }
        var offset = 0
        while offset < bytes.count {
            let outcome = IOResult.retryingInterrupts {
                loop.calls.send(socket.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
            loop.counters.sendCalls += 1
            switch outcome {
            case .processed(let count):
                if count < bytes.count - offset { loop.counters.partialSends += 1 }
                offset += count
                loop.counters.bytesSent += count
                lastActivity = loop.now
            case .wouldBlock:
                loop.counters.sendsWouldBlock += 1
                return offset
            case .failed(let code):
                fail(SocketError(code: code, operation: "send"))
                return nil
            }
        }
        return offset
    }

    /// True when this connection's output may go to the loop's shared gather buffer
    /// (taking it if free): its handler is running, nothing of its own is queued
    /// (order), it is open, and no other connection's output is there (a handler can
    /// make another connection's handler run, through `resumeReading`).
    @inline(__always)
    private func claimGather() -> Bool {
        guard gathering, outbound.isEmpty, state.phase == .open else { return false }
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
    private func releaseGathered(sending: Bool) -> Bool {
        guard loop.gatherOwner == ObjectIdentifier(self) else { return false }
        loop.gatherOwner = nil
        let loop = self.loop
        defer { loop.gather.clear() }
        guard !loop.gather.isEmpty, state.phase == .open || state.phase == .closing else { return false }
        var sent = 0
        if sending && outbound.isEmpty {
            guard let count = sendNow(loop.gather.readableBytes) else { return false }
            sent = count
        }
        if sent < loop.gather.count {
            outbound.append(UnsafeRawBufferPointer(rebasing: loop.gather.readableBytes[sent...]))
            updateBackpressure()
        }
        return sent > 0
    }

    /// Sends queued output; asks for `EPOLLOUT` if the kernel does not take it all.
    private func flush() {
        guard !outbound.isEmpty else { return }
        guard let sent = sendNow(outbound.readableBytes) else { return }
        outbound.consume(sent)
        updateBackpressure()
        guard outbound.isEmpty else { return }
        outputDrained()
    }

    /// Everything queued has gone to the kernel: a shutdown or close that waited for
    /// it happens now, and the handler hears of it.
    private func outputDrained() {
        guard state.phase != .closed else { return }
        if state.shutdownAfterFlush {
            state.shutdownAfterFlush = false
            _ = Glibc.shutdown(socket.descriptor, Int32(SHUT_WR))
        }
        if state.phase == .closing {
            if state.drainAfterFlush { beginDraining() } else { finishClose(error: nil) }
            return
        }
        handler?.connectionDidDrain(self)
    }

    // MARK: closing

    /// Closes the connection. With `afterFlush`, queued output is sent first (reading
    /// stops at once); otherwise it is dropped and the socket closed now.
    public func close(afterFlush: Bool = false) {
        loop.assertInLoop()
        releaseGathered(sending: false)
        switch state.phase {
        case .closed:
            return
        case .closing, .draining:
            if !afterFlush { finishClose(error: nil) }
        case .open, .connecting:
            if afterFlush && hasQueuedOutput && state.phase == .open {
                state.phase = .closing
                applyInterest()
            } else {
                finishClose(error: nil)
            }
        }
    }

    /// Closes without losing what the peer has not read yet: stops reading, sends what
    /// is queued, ends our side (FIN), then reads and discards whatever the peer still
    /// sends until it closes or `drainLimit` passes. Closing with unread input would
    /// make the kernel send a reset, which can destroy responses the peer has not read.
    public func closeGracefully(drainLimit: Duration = .seconds(2)) {
        loop.assertInLoop()
        releaseGathered(sending: false)
        switch state.phase {
        case .closed, .closing, .draining:
            return
        case .connecting:
            finishClose(error: nil)
        case .open:
            state.drainAfterFlush = true
            drainLimitNanoseconds = drainLimit.nanoseconds
            if !hasQueuedOutput {
                beginDraining()
            } else {
                state.phase = .closing
                applyInterest()
            }
        }
    }

    func closeNow() { close() }

    /// A server's graceful stop: the handler finishes its work first.
    func quiesce(drainLimit: Duration) {
        guard state.phase == .open || state.phase == .connecting, !isQuiescing else { return }
        isQuiescing = true
        quiesceDrainLimitNanoseconds = drainLimit.nanoseconds
        if let handler { handler.connectionShouldQuiesce(self) } else { finishQuiescing() }
    }

    /// Ends a quiesce the handler has finished (see
    /// `ConnectionHandler.connectionShouldQuiesce`): closes gracefully, within the
    /// drain limit the server's stop gave.
    public func finishQuiescing() {
        loop.assertInLoop()
        closeGracefully(drainLimit: .nanoseconds(Int64(clamping: quiesceDrainLimitNanoseconds)))
    }

    private func beginDraining() {
        _ = Glibc.shutdown(socket.descriptor, Int32(SHUT_WR))
        if state.reachedEnd {
            finishClose(error: nil)
            return
        }
        state.phase = .draining
        applyInterest()
        // The loop owns this timer; the connection may close before it fires.
        loop.schedule(afterNanoseconds: drainLimitNanoseconds) { [weak self] in self?.finishClose(error: nil) }
    }

    /// Reads and throws away what the peer sends while draining; closes at its end.
    private func discardInput() {
        let buffer = loop.receiveBuffer
        for _ in 0..<16 {
            switch IOResult.retryingInterrupts({ loop.calls.receive(socket.descriptor, buffer.baseAddress!, buffer.count) }) {
            case .processed(0), .failed:
                finishClose(error: nil)
                return
            case .processed:
                continue
            case .wouldBlock:
                return
            }
        }
    }

    /// Closes at once with a TCP reset (`SO_LINGER` 0): the peer's next read fails with
    /// `ECONNRESET` and queued output is dropped. For fault injection and for peers
    /// that must not linger.
    public func reset() {
        loop.assertInLoop()
        guard state.phase != .closed else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(socket.descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        finishClose(error: nil)
    }

    /// Ends our sending side (`shutdown(SHUT_WR)`): the peer reads end of stream while
    /// we can still receive. Queued output is sent first.
    public func shutdownOutput() {
        loop.assertInLoop()
        releaseGathered(sending: false)
        guard state.phase == .open else { return }
        if !hasQueuedOutput {
            _ = Glibc.shutdown(socket.descriptor, Int32(SHUT_WR))
        } else {
            state.shutdownAfterFlush = true
        }
    }

    private func fail(_ error: SocketError) { finishClose(error: error) }

    func failConnect(_ error: SocketError) { finishClose(error: error) }

    private func finishClose(error: SocketError?) {
        guard state.phase != .closed else { return }
        state.phase = .closed
        if let ring = loop.ring {
            // A receive or send still in the ring keeps the socket open (no FIN) until
            // cancelled; the bytes a send reads stay alive until it completes.
            if ringReceive != .idle {
                ring.cancel(Ring.userData(.receive, token: token))
                ringReceive = .idle
            }
            if ringSendInFlight {
                ring.cancel(Ring.userData(.send, token: token))
                loop.retire(inFlight.detach(), token: token)
                ringSendInFlight = false
            }
            ring.submitQueued()
        }
        // Closed: gathered output is dropped, and the loop's buffer freed for others.
        releaseGathered(sending: false)
        loop.counters.connectionsClosed += 1
        loop.deregister(descriptor: socket.descriptor)
        socket.close()
        inbound.reset()
        outbound.reset()
        inFlight.reset()
        // All of it: small storage that `reset` keeps for reuse is no longer in use.
        budget?.adjust(by: -charged)
        charged = 0
        inputReservation = 0
        let handler = self.handler
        self.handler = nil
        server?.remove()
        handler?.connectionDidClose(self, error: error)
    }

    func loopDidStop(_ error: SocketError) { finishClose(error: error) }

    func sweep(now: UInt64) {
        let idle = idleNanoseconds != 0 && now &- lastActivity >= idleNanoseconds
        if state.phase == .closing && idle {
            // Flushing before a close to a peer that stopped reading: nothing will move.
            finishClose(error: nil)
            return
        }
        guard state.phase == .open else { return }
        // Waiting for us is not idleness: the clock restarts when reading does.
        if state.pausedByBudget { lastActivity = now }
        if deadlineNanoseconds != 0 && now >= deadlineNanoseconds {
            deadlineNanoseconds = 0
            handler?.connectionDeadlinePassed(self)
        } else if idle {
            // Output still queued counts too: a peer that stopped reading our answers is
            // as idle as one that stopped sending.
            handler?.connectionDidIdle(self)
        }
    }

    // MARK: events

    func handleEvents(_ flags: UInt32) {
        if state.phase == .draining {
            if flags & (EpollFlag.readable | EpollFlag.hangUp | EpollFlag.error) != 0 { discardInput() }
            return
        }
        if state.phase == .connecting {
            // Only writability or an error answers a connect; anything else is not ours.
            if flags & (EpollFlag.writable | EpollFlag.error | EpollFlag.hangUp) != 0 { completeConnect() }
            return
        }
        if flags & EpollFlag.writable != 0 { flush() }
        if state.reachedEnd {
            // Level-triggered epoll repeats a hang-up forever: after end of stream it
            // means the peer is gone both ways, so nothing queued can be delivered.
            if flags & (EpollFlag.hangUp | EpollFlag.error) != 0 { finishClose(error: nil) }
            return
        }
        // With the ring, input (its end and errors too) comes only through the ring: a
        // read here would race it and could reorder the bytes.
        if flags & (EpollFlag.readable | EpollFlag.hangUp | EpollFlag.error) != 0, state.wantsToRead, loop.ring == nil {
            readAvailable()
        }
    }

    private func completeConnect() {
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

    /// Reads until the kernel has nothing more (a short read says so without an
    /// extra `EAGAIN` call), at most 16 times so one busy peer cannot starve the rest.
    private func readAvailable() {
        let buffer = loop.receiveBuffer
        for _ in 0..<16 {
            if let budget, budget.isExhausted {
                state.pausedByBudget = true
                loop.counters.readPausesForMemory += 1
                applyInterest()
                loop.pausedForMemory(self)
                return
            }
            let outcome = IOResult.retryingInterrupts {
                loop.calls.receive(socket.descriptor, buffer.baseAddress!, buffer.count)
            }
            loop.counters.receiveCalls += 1
            switch outcome {
            case .processed(0):
                state.reachedEnd = true
                handler?.connectionDidReachEnd(self)
                applyInterest()
                return
            case .processed(let count):
                lastActivity = loop.now
                loop.counters.bytesReceived += count
                deliver(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
                if count < buffer.count || !state.wantsToRead { return }
            case .wouldBlock:
                loop.counters.receivesWouldBlock += 1
                return
            case .failed(let code):
                fail(SocketError(code: code, operation: "recv"))
                return
            }
        }
    }

    private func deliver(_ fresh: UnsafeRawBufferPointer) {
        guard let handler else { return }
        if !inbound.isEmpty {
            if inputReservation > inbound.capacity { inbound.ensureCapacity(inputReservation) }
            inbound.append(fresh)
            offerBufferedInput()
            return
        }
        gathering = true
        let used = handler.connection(self, didReceive: fresh)
        if state.phase != .closed {
            guard checkConsumed(used, of: fresh.count) else { return }
            if used < fresh.count { inbound.append(UnsafeRawBufferPointer(rebasing: fresh[used...])) }
        }
        finishDelivery()
    }

    /// Offers the input kept from earlier reads to the handler again.
    private func offerBufferedInput() {
        ringKeptInput = false
        guard let handler else { return }
        gathering = true
        let used = handler.connection(self, didReceive: inbound.readableBytes)
        if state.phase != .closed {
            guard checkConsumed(used, of: inbound.count) else { return }
            inbound.consume(used)
        }
        finishDelivery()
    }

    /// Sends what the handler wrote during the callback, in one go. Every callback that
    /// sets `gathering` ends here: the loop's gather buffer must be given back.
    private func finishDelivery() {
        gathering = false
        // Gathered output goes out in one call; only an unsent rest is queued (and then
        // EPOLLOUT does the rest, without a second call that would only find EAGAIN).
        if releaseGathered(sending: true) {
            if outbound.isEmpty { outputDrained() }
        } else if state.phase == .open || state.phase == .closing {
            flush()
        }
        recharge()
    }

    /// A handler that says it used fewer than 0 or more than it was given has a bug;
    /// trusting the number would corrupt the buffer, so the connection closes instead.
    private func checkConsumed(_ used: Int, of offered: Int) -> Bool {
        guard used < 0 || used > offered else { return true }
        gathering = false
        fail(SocketError(.misuse, operation: "handler consumed \(used) of \(offered) bytes"))
        return false
    }

    /// Stops reading from this connection until `resumeReading()` (flow control for
    /// the application; backpressure on output does the same by itself).
    public func pauseReading() {
        loop.assertInLoop()
        guard state.phase == .open else { return }
        state.pausedByApplication = true
        applyInterest()
    }

    /// Reads again after `pauseReading()`. Input kept from before the pause (a tail the
    /// handler did not consume) is offered again at once, not only with the next read,
    /// so requests already received are not stranded when the peer sends nothing more.
    public func resumeReading() {
        loop.assertInLoop()
        guard state.phase == .open else { return }
        state.pausedByApplication = false
        applyInterest()
        if !gathering && !inbound.isEmpty && state.wantsToRead { offerBufferedInput() }
    }

    // MARK: interest

    private func updateBackpressure() {
        let wasPaused = state.pausedByBackpressure
        state.applyBackpressure(queued: outbound.count + inFlight.count, pauseAbove: pauseAbove, resumeBelow: resumeBelow)
        if state.pausedByBackpressure && !wasPaused { loop.counters.readPausesForBackpressure += 1 }
        recharge()
        applyInterest()
    }

    /// Brings this connection's charge to the server's memory budget up to date: the
    /// storage its buffers hold, counting input at least as large as announced.
    @inline(__always)
    private func recharge() {
        guard let budget else { return }
        let now = max(inbound.capacity, inputReservation) + outbound.capacity + inFlight.capacity
        guard now != charged else { return }
        budget.adjust(by: now - charged)
        let gaveBack = now < charged
        charged = now
        if gaveBack && budget.allowsResuming { loop.resumePausedForMemory() }
    }

    /// Reads again after a pause for the memory budget, if the budget allows now;
    /// otherwise stays on the loop's list.
    func resumeIfMemoryAllows() {
        guard state.pausedByBudget, state.phase == .open else { return }
        guard budget?.allowsResuming ?? true else {
            loop.pausedForMemory(self)
            return
        }
        state.pausedByBudget = false
        applyInterest()
    }

    /// What epoll should watch: what the state wants, except that with the ring, input
    /// comes through the ring and not through epoll readiness.
    private var epollInterest: UInt32 {
        guard loop.ring != nil else { return state.interest }
        // Only a connect still waits for readiness: input and output go through the ring.
        return state.phase == .connecting ? state.interest : 0
    }

    /// Makes epoll watch what the state wants (and the ring receive when it should); a
    /// refusal closes this connection only.
    private func applyInterest() {
        if loop.ring != nil {
            updateRingReceive()
            updateRingSend()
        }
        let wanted = epollInterest
        guard wanted != interest, registered, state.phase != .closed, socket.isOpen else { return }
        interest = wanted
        do throws(SocketError) {
            try loop.modify(descriptor: socket.descriptor, events: wanted)
        } catch {
            fail(error)
        }
    }
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
    }
}

// MARK: - receiving through the ring (`uring` backend)

/// Where a connection's multishot receive is.
enum RingReceive {
    /// Not in the ring.
    case idle
    /// In the ring: completions come as data arrives.
    case armed
    /// Cancelled, and its last completion has not come yet; it is armed again then if
    /// reading is wanted by that time (never two at once: they would split the input).
    case cancelling
}

extension Connection {
    /// Arms the ring's receive when this connection should read (or drain) and cancels
    /// it when it should not.
    func updateRingReceive() {
        guard let ring = loop.ring, registered, state.phase != .closed else { return }
        let wanted = state.wantsToRead || state.phase == .draining
        if state.wantsToRead && (ringEndPending || ringKeptInput) && !ringResumeScheduled {
            // Resumed with input kept during the pause, or after the end of stream came:
            // offered after the code that resumed has finished (it may be a callback).
            ringResumeScheduled = true
            loop.schedule(afterNanoseconds: 0) { [weak self] in self?.resumeFromRing() }
        }
        if ringEndPending { return }
        switch (wanted, ringReceive) {
        case (true, .idle):
            ring.receive(socket.descriptor, userData: Ring.userData(.receive, token: token))
            ringReceive = .armed
        case (false, .armed):
            ring.cancel(Ring.userData(.receive, token: token))
            ringReceive = .cancelling
            // At once rather than with the turn's wait: the receive goes on filling
            // buffers until the kernel takes the cancel.
            ring.submitQueued()
        default:
            break
        }
    }

    func receiveCompleted(result: Int32, bytes: UnsafeRawBufferPointer?, more: Bool) {
        if !more { ringReceive = .idle }
        guard state.phase != .closed else { return }
        // Counted as the receive calls they replace: data, or the end of stream.
        if result >= 0 { loop.counters.receiveCalls += 1 }
        if let bytes, result > 0 {
            receivedFromRing(bytes)
        } else if result == 0 {
            if state.phase == .draining {
                finishClose(error: nil)
                return
            }
            if state.wantsToRead && !ringKeptInput {
                reachEndFromRing()
            } else {
                // After the input kept meanwhile, once reading resumes (or now, if it has).
                ringEndPending = true
                updateRingReceive()
            }
            return
        } else if result < 0 && result != -ENOBUFS && result != -ECANCELED {
            // No free buffer ends the receive without harm: it is armed again below.
            fail(SocketError(code: -result, operation: "recv"))
            return
        }
        if ringReceive == .idle && state.phase != .closed { updateRingReceive() }
    }

    private func receivedFromRing(_ bytes: UnsafeRawBufferPointer) {
        loop.counters.bytesReceived += bytes.count
        lastActivity = loop.now
        guard state.phase == .open else { return }  // draining, or closing: not wanted
        if state.pausedByApplication {
            // Arrived between the pause and the cancel taking effect: the handler asked
            // for no input until it resumes, so it is kept until then.
            keepReceived(bytes)
            return
        }
        if state.wantsToRead, let budget, budget.isExhausted {
            state.pausedByBudget = true
            loop.counters.readPausesForMemory += 1
            applyInterest()
            loop.pausedForMemory(self)
        }
        // Also while paused for backpressure or the memory budget: those pauses only
        // stop further reading, and what arrived before the cancel took effect (one
        // turn's worth at most) is handled like the last read before an epoll pause.
        // Kept instead, it would hold budget that only a resume could give back.
        deliver(bytes)
    }

    /// Starts the ring sending what is queued, unless a send is in flight (its
    /// completion starts the next one: one at a time keeps the bytes in order).
    func updateRingSend() {
        guard let ring = loop.ring, !ringSendInFlight, !outbound.isEmpty,
            state.phase == .open || state.phase == .closing
        else { return }
        swap(&inFlight, &outbound)
        sendInFlight(on: ring)
    }

    private func sendInFlight(on ring: Ring) {
        let bytes = inFlight.readableBytes
        ringSendInFlight = true
        ring.send(socket.descriptor, bytes, userData: Ring.userData(.send, token: token))
    }

    func sendCompleted(result: Int32) {
        ringSendInFlight = false
        guard state.phase != .closed else { return }
        guard result >= 0 else {
            if result != -ECANCELED { fail(SocketError(code: -result, operation: "send")) }
            return
        }
        let sent = Int(result)
        loop.counters.sendCalls += 1
        loop.counters.bytesSent += sent
        if sent > 0 { lastActivity = loop.now }
        inFlight.consume(sent)
        if !inFlight.isEmpty, let ring = loop.ring {
            loop.counters.partialSends += 1
            sendInFlight(on: ring)
            return
        }
        // Starts the next send if more was queued meanwhile; resumes reading if it paused.
        updateBackpressure()
        if !hasQueuedOutput { outputDrained() }
    }

    /// Keeps input the handler cannot be given now, for when reading resumes.
    private func keepReceived(_ bytes: UnsafeRawBufferPointer) {
        inbound.append(bytes)
        ringKeptInput = true
        recharge()
    }

    /// After a resume: offers the input kept during the pause, then the end of stream
    /// if it came meanwhile. Paused again by then: the next resume comes back here.
    private func resumeFromRing() {
        ringResumeScheduled = false
        guard state.wantsToRead else { return }
        if ringKeptInput {
            ringKeptInput = false
            if !inbound.isEmpty { offerBufferedInput() }
        }
        if ringEndPending && state.wantsToRead {
            ringEndPending = false
            reachEndFromRing()
        }
    }

    private func reachEndFromRing() {
        guard state.phase == .open, !state.reachedEnd else { return }
        state.reachedEnd = true
        handler?.connectionDidReachEnd(self)
        applyInterest()
    }
}
