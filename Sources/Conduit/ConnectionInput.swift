/// A connection's input: what its transport hands in, and how it reaches the handler.
/// The same on every backend; the rules for input that arrives while reading is paused
/// matter only where input can arrive after a pause began (the ring's receive runs
/// until the kernel takes its cancel).
extension Connection {
    /// True while the connection wants the transport to receive for it: to hand input
    /// to the handler, or to discard it while draining before a close.
    var wantsInput: Bool { (state.wantsToRead && !endPending) || state.phase == .draining }

    /// Asked by a transport before each receive it makes itself: true when input is
    /// wanted now. Past its server's memory budget the connection pauses instead.
    @inline(__always)
    func mayReceive() -> Bool {
        if state.phase == .draining { return true }
        guard state.wantsToRead else { return false }
        // Optional chaining, not `if let`: a bound copy cost a retain and a release of
        // the budget on every read.
        if budget?.isExhausted == true {
            pauseForMemory()
            return false
        }
        return true
    }

    /// Stops reading until its server's memory budget allows again.
    private func pauseForMemory() {
        state.pausedByBudget = true
        loop.counters.readPausesForMemory += 1
        applyInterest()
        loop.pausedForMemory(self)
    }

    /// The transport received `bytes` (valid until this returns).
    @inline(__always)
    func received(_ bytes: UnsafeRawBufferPointer) {
        lastActivity = loop.now
        // Draining, closing: not wanted (draining reads only to let the peer finish).
        guard state.phase == .open else { return }
        // `tls != nil`, not `if let`: the plaintext path then pays no retain and release.
        if tls != nil {
            receivedCiphertext(bytes, tls.unsafelyUnwrapped)
            return
        }
        receivedPlaintext(bytes)
    }

    /// Input for the handler: offered now, or kept while the application has paused.
    @inline(__always)
    func receivedPlaintext(_ bytes: UnsafeRawBufferPointer) {
        if state.pausedByApplication {
            // Arrived between the pause and its taking effect: the handler asked for no
            // input until it resumes, so it is kept until then.
            keep(bytes)
            return
        }
        // The transports ask `mayReceive()` (which checks the memory budget) before they
        // hand input over; past a pause for backpressure or the budget, what they hand
        // over anyway (the ring, once it may hold no more) is handled like the last read
        // before an epoll pause.
        deliver(bytes)
    }

    /// Keeps `bytes` (copied) to offer the handler once reading resumes, after any input
    /// kept before them.
    func keep(_ bytes: UnsafeRawBufferPointer) {
        inbound.append(bytes)
        keptWhilePaused = true
        recharge()
        if mayOfferKeptInput && !resumeScheduled { scheduleResume() }
    }

    /// True when input kept during a pause may be offered to the handler: the
    /// application has not paused reading, nor has the connection's own output. A pause
    /// for the server's memory budget only stops further reading: kept input is charged
    /// to that budget, so withholding it would keep the budget from ever falling far
    /// enough to resume (seen with 48 echo clients: every connection paused for good).
    var mayOfferKeptInput: Bool {
        state.phase == .open && !state.pausedByApplication && !state.pausedByBackpressure && !state.reachedEnd
    }

    /// The transport handed over all the input it held for this connection: an end of
    /// stream that came after it is told now.
    func heldInputDelivered() {
        guard endPending, state.wantsToRead, !keptWhilePaused else { return }
        endPending = false
        reachEnd()
    }

    /// The peer has finished sending.
    func receivedEnd() {
        if state.phase == .draining {
            finishClose(error: nil)
            return
        }
        if let tls, !tls.isEstablished, state.phase == .open {
            fail(SocketError(.tls, operation: "TLS handshake: the peer closed the connection before it completed"))
            return
        }
        guard state.phase == .open, !state.reachedEnd else { return }
        if state.wantsToRead && !keptWhilePaused && !io.holdsInput {
            reachEnd()
        } else {
            // After the input kept meanwhile, once reading resumes (or now, if it has).
            endPending = true
            applyInterest()
        }
    }

    /// A receive failed with `code`.
    func receiveFailed(code: Int32) {
        if state.phase == .draining {
            finishClose(error: nil)
        } else {
            fail(SocketError(code: code, operation: "recv"))
        }
    }

    /// After end of stream the peer hung up both ways: nothing queued can be delivered.
    func peerIsGone() { finishClose(error: nil) }

    private func reachEnd() {
        guard state.phase == .open, !state.reachedEnd else { return }
        state.reachedEnd = true
        handler?.connectionDidReachEnd(self)
        applyInterest()
    }

    func deliver(_ fresh: UnsafeRawBufferPointer) {
        guard let handler else { return }
        if !inbound.isEmpty {
            if inputReservation > inbound.capacity { inbound.ensureCapacity(inputReservation) }
            inbound.append(fresh)
            offerBufferedInput()
            return
        }
        gathering = true
        handlerReplaced = false
        let used = handler.connection(self, didReceive: fresh)
        if state.phase != .closed {
            guard checkConsumed(used, of: fresh.count) else { return }
            if used < fresh.count { inbound.append(UnsafeRawBufferPointer(rebasing: fresh[used...])) }
        }
        finishDelivery(telling: handler)
    }

    /// Offers the input kept from earlier reads to the handler again. The storage
    /// stays valid for the whole callback, even if the handler closes the connection
    /// meanwhile (it is released when the callback returns).
    func offerBufferedInput() {
        keptWhilePaused = false
        guard let handler else { return }
        gathering = true
        handlerReplaced = false
        offeringInbound = true
        let used = handler.connection(self, didReceive: inbound.readableBytes)
        offeringInbound = false
        if state.phase == .closed {
            inbound.reset()
        } else {
            guard checkConsumed(used, of: inbound.count) else { return }
            inbound.consume(used)
        }
        finishDelivery(telling: handler)
    }

    /// Sends what the handler wrote during the callback, in one go. Every callback that
    /// sets `gathering` ends here: the loop's gather buffer must be given back.
    func finishDelivery() {
        if finishDeliveryDrained() { handler?.connectionDidDrain(self) }
    }

    /// `finishDelivery` after a handler callback, telling `connectionDidDrain` to the
    /// handler the caller holds for the callback: looked up again, it was retained and
    /// released once more per message. Unless the callback replaced the handler: then
    /// the new one hears it.
    @inline(__always)
    func finishDelivery(telling running: ConnectionHandler) {
        guard finishDeliveryDrained() else { return }
        if handlerReplaced { handler?.connectionDidDrain(self) } else { running.connectionDidDrain(self) }
    }

    /// `finishDelivery`'s work; true when all output went out and the handler is to hear
    /// `connectionDidDrain` (the caller tells it).
    @inline(__always)
    private func finishDeliveryDrained() -> Bool {
        gathering = false
        var drained = false
        // Gathered output goes out in one call; only an unsent rest is queued (and then
        // the transport does the rest, without a second call that would only find EAGAIN).
        if releaseGathered(sending: true) {
            if !hasQueuedOutput { drained = outputDrainedTellsHandler() }
        } else if state.phase == .open || state.phase == .closing {
            flush()
        }
        recharge()
        return drained
    }

    /// A handler that says it used fewer than 0 or more than it was given has a bug;
    /// trusting the number would corrupt the buffer, so the connection closes instead.
    @inline(__always)
    private func checkConsumed(_ used: Int, of offered: Int) -> Bool {
        guard used < 0 || used > offered else { return true }
        handlerMiscounted(used, of: offered)
        return false
    }

    /// `checkConsumed`'s failure, out of line: the hot path only compares.
    @inline(never)
    private func handlerMiscounted(_ used: Int, of offered: Int) {
        gathering = false
        fail(SocketError(.misuse, operation: "handler consumed \(used) of \(offered) bytes"))
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

    /// Input kept during a pause, or an end of stream that came meanwhile, is offered
    /// after the code that resumed reading has finished (it may be a handler callback).
    func scheduleResume() {
        resumeScheduled = true
        loop.schedule(afterNanoseconds: 0) { [weak self] in self?.resumeKeptInput() }
    }

    /// After a resume: offers the input kept during the pause, then the end of stream
    /// if it came meanwhile. Paused again by then: the next resume comes back here.
    private func resumeKeptInput() {
        resumeScheduled = false
        if keptWhilePaused && mayOfferKeptInput {
            keptWhilePaused = false
            if !inbound.isEmpty { offerBufferedInput() }
        }
        if endPending && state.wantsToRead && !io.holdsInput {
            endPending = false
            reachEnd()
        }
    }
}
