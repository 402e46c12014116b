import Glibc

/// How a connection ends: at once, after its output, gracefully (draining the peer),
/// by reset, or by its server's stop; and the timeouts that end it.
extension Connection {
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
            // A TLS peer is told the end is intended (close_notify) whenever that costs
            // nothing: after the output, or when none is queued.
            if state.phase == .open && (afterFlush || !hasQueuedOutput) { queueCloseNotify() }
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
            queueCloseNotify()
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

    /// Closes now if nothing can be lost: no input the handler has not consumed (kept
    /// here, held by the transport, or waiting in the kernel's receive queue) and no
    /// output queued. Returns whether it closed. A graceful stop uses it for
    /// connections between messages: an idle peer would otherwise hold the stop for its
    /// whole grace period, and with nothing unread here the close is a FIN, not a reset.
    public func closeIfIdle() -> Bool {
        loop.assertInLoop()
        releaseGathered(sending: true)
        guard state.phase == .open, inbound.isEmpty, !io.holdsInput, !hasQueuedOutput,
            socket.queueSizes().receive == 0
        else { return false }
        close()
        return true
    }

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

    func beginDraining() {
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
        queueCloseNotify()
        if !hasQueuedOutput {
            _ = Glibc.shutdown(socket.descriptor, Int32(SHUT_WR))
        } else {
            state.shutdownAfterFlush = true
        }
    }

    func fail(_ error: SocketError) { finishClose(error: error) }

    func failConnect(_ error: SocketError) { finishClose(error: error) }

    func finishClose(error: SocketError?) {
        guard state.phase != .closed else { return }
        state.phase = .closed
        // Closed: gathered output is dropped, and the loop's buffer freed for others.
        releaseGathered(sending: false)
        loop.counters.connectionsClosed += 1
        // The transport ends what it has under way for this socket before it closes.
        loop.transport.close(self)
        socket.close()
        // A handler reading kept input has it until its callback returns (released then).
        if !offeringInbound { inbound.reset() }
        outbound.reset()
        inFlight.reset()
        tls = nil
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
            if let tls, !tls.isEstablished {
                fail(SocketError(.tls, operation: "TLS handshake: not completed within the handshake timeout"))
                return
            }
            handler?.connectionDeadlinePassed(self)
        } else if idle {
            // Output still queued counts too: a peer that stopped reading our answers is
            // as idle as one that stopped sending.
            handler?.connectionDidIdle(self)
        }
    }
}
