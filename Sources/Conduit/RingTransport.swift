import CShim
import Glibc

/// The `uring` backend's transport: every byte moves through the loop's io_uring ring
/// (see `Transport`, `Ring`, and DESIGN.md, "The io_uring backend").
///
/// - Reading: one multishot receive per connection that wants input, into the ring's
///   provided buffers; each completion's bytes go to the connection and the buffer
///   back to the kernel at once. Not wanted any more (paused by the application, by
///   backpressure, by its server's memory budget): the receive is cancelled, and the
///   cancel submitted at once. What the receive took before the kernel saw the cancel
///   stays in its buffers, held for the connection without a copy, and is handed over
///   in order when reading resumes: given to the handler instead, it made output past
///   the pause (11 MB over a 1 MiB budget with 50 clients that never read). At most
///   half the buffers are held at once, so a loop never runs out of them for the
///   connections that do read; past that, held input is copied into the connection.
/// - Writing: nothing is sent synchronously. Queued output is handed to the ring as one
///   send per connection (`Connection.handOverQueuedOutput`), whose bytes stay put
///   until it completes; what is written meanwhile queues behind it.
/// - Accepting: one multishot accept per listener (readiness polls on a kernel that
///   refuses it); connects in progress: a one-shot poll for writability.
/// - Closing: a connection's operations are cancelled, those not yet submitted voided
///   (`Ring.forget`), and the bytes of a send still in the kernel kept until its last
///   completion (`retiredSends`).
final class RingTransport: Transport {
    let ring: Ring
    private let calls: SystemCalls
    private let wakeFD: Int32
    /// Output of connections closed while the ring was still sending it, kept until
    /// that send's last completion (the kernel reads the bytes until then), by token.
    private var retiredSends: [UInt64: ByteBuffer] = [:]
    /// Connections whose receive ended for want of a free buffer (`ENOBUFS`): armed
    /// again on a later turn, once the buffers handed out this turn are back.
    private var shortOfBuffers: [Connection] = []
    /// Consecutive turns that ran short of buffers: past a few, re-arming waits longer.
    private var shortTurns = 0
    /// Consecutive turns the kernel refused for a transient reason (EAGAIN, ENOMEM).
    private var refusedTurns = 0
    private var enteredOnce = false
    /// Where a listener that accepts on readiness gets its batch.
    private var acceptedFDs = [Int32](repeating: -1, count: 64)
    /// Held receive buffers (see the type's notes): the next in each connection's chain,
    /// and how many bytes each holds, by buffer id.
    private var heldNext: [UInt16]
    private var heldLength: [UInt32]
    /// Buffers held now, and at most how many may be.
    private var heldCount = 0
    private let holdLimit: Int
    /// Connections whose held input is handed over at the start of the next turn.
    private var readyToDeliver: [Connection] = []

    /// Makes the ring (disabled until the loop's thread runs it) and queues the poll of
    /// the loop's wake-up eventfd.
    init(calls: SystemCalls, wakeFD: Int32, configuration: Ring.Configuration) throws(SocketError) {
        if let reason = IOBackend.uringUnavailableReason {
            throw SocketError(.transportFailed, operation: "io_uring is not available here: \(reason)")
        }
        self.calls = calls
        self.wakeFD = wakeFD
        ring = try Ring(configuration)
        heldNext = Array(repeating: TransportSlot.noBuffer, count: Int(configuration.bufferCount))
        heldLength = Array(repeating: 0, count: Int(configuration.bufferCount))
        holdLimit = max(1, Int(configuration.bufferCount) / 2)
        armWake()
    }

    deinit {
        // The ring closes itself; bytes a send may still read must outlive it.
        if !ring.isClosed && ring.operationsInFlight > 0 { Self.keepForever(retiredSends) }
    }

    private static func keepForever(_ buffers: [UInt64: ByteBuffer]) {
        for buffer in buffers.values { _ = Unmanaged.passRetained(buffer) }
    }

    private func armWake() {
        ring.poll(wakeFD, events: EpollFlag.readable, multishot: true, userData: Ring.userData(.wake, token: 0))
    }

    // MARK: the loop

    func prepareToRun(on loop: EventLoop) throws(SocketError) {
        try ring.enableOnThisThread()
        guard !enteredOnce else { return }
        // A kernel (or a seccomp profile) that let the probe's ring in but refuses this
        // one says so here, when the loop starts, not in the middle of serving.
        enteredOnce = true
        dispatch(ring.completions, count: try ring.wait(timeoutNanoseconds: 0), on: loop)
    }

    func turn(on loop: EventLoop, timeoutNanoseconds: Int64) throws(SocketError) {
        rearmShortOfBuffers(on: loop)
        var timeoutNanoseconds = timeoutNanoseconds
        if !readyToDeliver.isEmpty {
            deliverHeld()
            // Handing over may have queued more (a pause and a resume in a callback):
            // look at the ring without sleeping, and come back to them.
            if !readyToDeliver.isEmpty { timeoutNanoseconds = 0 }
        }
        if refusedTurns > 0 {
            // The kernel refused the last turns (short of memory, say), and would refuse
            // again at once: pause a little, longer each time, rather than spin.
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000 << min(refusedTurns - 1, 6))
            nanosleep(&pause, nil)
        }
        let count = try ring.wait(timeoutNanoseconds: timeoutNanoseconds)
        loop.now = Monotonic.now()
        if ring.lastTransientFailure != 0 {
            refusedTurns += 1
            loop.counters.ringRefusals += 1
        } else {
            refusedTurns = 0
        }
        if ring.hasOverflowed { loop.counters.completionOverflows += 1 }
        loop.counters.wakeUps += 1
        loop.counters.events += count
        dispatch(ring.completions, count: count, on: loop)
        shortTurns = shortOfBuffers.isEmpty ? 0 : shortTurns + 1
    }

    private func dispatch(_ completions: UnsafeMutablePointer<cshim_completion>, count: Int, on loop: EventLoop) {
        for index in 0..<count { dispatch(completions[index], on: loop) }
    }

    @inline(__always)
    private func dispatch(_ completion: cshim_completion, on loop: EventLoop) {
        ring.noteCompletion(completion)
        var completion = completion
        let more = cshim_completion_more(&completion) != 0
        let (kind, token) = Ring.split(completion.user_data)
        switch kind {
        case Ring.Kind.receive.rawValue:
            deliverReceive(completion, token: token, more: more, on: loop)
        case Ring.Kind.send.rawValue:
            if case .connection(let connection)? = loop.registry.target(for: token) {
                sendCompleted(connection, result: completion.result)
            } else {
                retiredSends[token] = nil
            }
        case Ring.Kind.accept.rawValue:
            deliverAccept(result: completion.result, token: token, more: more, on: loop)
        case Ring.Kind.readiness.rawValue:
            deliverReadiness(token: token, on: loop)
        case Ring.Kind.wake.rawValue:
            loop.wokenUp()
            if !more { armWake() }
        default:
            break
        }
    }

    /// Send buffers of closed connections still waiting for their send's last completion.
    var retiredSendCount: Int { retiredSends.count }

    func loopStopped(on loop: EventLoop) {
        // Cancels queued by closes must reach the kernel (and their deferred work run),
        // or the sockets stay open (no FIN) while the loop is not running.
        if ring.isOnIssuerThread { ring.submit(runningDeferredWork: true) }
    }

    func finish(on loop: EventLoop) {
        let quiet = ring.close(within: .seconds(5)) { completion in
            let (kind, token) = Ring.split(completion.user_data)
            if kind == Ring.Kind.send.rawValue { retiredSends[token] = nil }
            if kind == Ring.Kind.accept.rawValue && completion.result >= 0 { Glibc.close(completion.result) }
        }
        // Not quiet: the kernel may still read a send's bytes; they must outlive it.
        if !quiet { Self.keepForever(retiredSends) }
        retiredSends.removeAll()
        shortOfBuffers.removeAll()
        readyToDeliver.removeAll()
    }

    // MARK: connections

    func register(_ connection: Connection) throws(SocketError) {
        connection.io.token = connection.loop.registry.add(.connection(connection), descriptor: connection.descriptor)
        update(connection)
    }

    func update(_ connection: Connection) {
        guard connection.io.isRegistered else { return }
        switch connection.state.phase {
        case .closed:
            return
        case .connecting:
            if !connection.io.polling {
                connection.io.polling = true
                ring.poll(
                    connection.descriptor, events: EpollFlag.writable | EpollFlag.error | EpollFlag.hangUp,
                    userData: Ring.userData(.readiness, token: connection.io.token))
            }
        case .open, .closing, .draining:
            updateReceive(connection)
            updateSend(connection)
            if connection.io.holdsInput { queueDelivery(connection) }
        }
    }

    /// Arms the receive when the connection wants input, cancels it when it does not.
    private func updateReceive(_ connection: Connection) {
        let wanted = connection.wantsInput
        switch (wanted, connection.io.operation) {
        case (true, .idle):
            ring.receive(connection.descriptor, userData: Ring.userData(.receive, token: connection.io.token))
            connection.io.operation = .armed
        case (false, .armed):
            ring.cancel(Ring.userData(.receive, token: connection.io.token))
            connection.io.operation = .cancelling
            // At once rather than with the turn's wait: the receive goes on filling
            // buffers until the kernel takes the cancel.
            if ring.isOnIssuerThread { ring.submit(runningDeferredWork: false) }
        default:
            break
        }
    }

    /// Starts the ring sending what is queued, unless a send is in flight (its
    /// completion starts the next one: one at a time keeps the bytes in order).
    private func updateSend(_ connection: Connection) {
        guard !connection.io.sending, connection.state.phase == .open || connection.state.phase == .closing,
            connection.hasOutputToHandOver
        else { return }
        startSend(connection, connection.handOverQueuedOutput())
    }

    @inline(__always)
    private func startSend(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        connection.io.sending = true
        ring.send(connection.descriptor, bytes, userData: Ring.userData(.send, token: connection.io.token))
    }

    /// The ring sends only from the connection's queue: nothing is taken here.
    @inline(__always)
    func send(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int? { 0 }

    func send(_ connection: Connection, _ header: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int? { 0 }

    func close(_ connection: Connection) {
        let token = connection.io.token
        guard connection.io.isRegistered else { return }
        // A receive or poll still in the ring keeps the socket open (no FIN) until
        // cancelled; the bytes a send reads stay alive until its last completion.
        if connection.io.operation != .idle {
            if connection.io.operation == .armed { ring.cancel(Ring.userData(.receive, token: token)) }
            connection.io.operation = .idle
        }
        if connection.io.polling {
            ring.cancel(Ring.userData(.readiness, token: token))
            connection.io.polling = false
        }
        if connection.io.sending {
            ring.cancel(Ring.userData(.send, token: token))
            if let buffer = connection.detachHandedOver() { retiredSends[token] = buffer }
            connection.io.sending = false
        }
        releaseHeld(connection)
        ring.forget(descriptor: connection.descriptor)
        connection.loop.registry.remove(descriptor: connection.descriptor)
        // With the loop running, its next wait (this turn's end) submits the cancels;
        // stopped, nothing else would, and the peer would wait for its FIN.
        if !connection.loop.isRunning && ring.isOnIssuerThread { ring.submit(runningDeferredWork: true) }
    }

    private func deliverReceive(_ completion: cshim_completion, token: UInt64, more: Bool, on loop: EventLoop) {
        var completion = completion
        let hasBuffer = cshim_completion_has_buffer(&completion) != 0
        let id = hasBuffer ? cshim_completion_buffer_id(&completion) : 0
        let result = completion.result
        guard case .connection(let connection)? = loop.registry.target(for: token),
            connection.state.phase != .closed
        else {
            // The buffer is the ring's: back to the kernel even when its connection
            // has closed since.
            if hasBuffer { ring.returnBuffer(id) }
            return
        }
        if !more { connection.io.operation = .idle }
        if result > 0 && hasBuffer {
            loop.counters.receiveCalls += 1
            loop.counters.bytesReceived += Int(result)
            if connection.state.phase == .open && (connection.io.holdsInput || !connection.mayReceive()) {
                if connection.keptWhilePaused {
                    // Input was copied into the connection before (see `hold`): the rest
                    // goes after it, so the handler gets it all in order.
                    connection.keep(UnsafeRawBufferPointer(start: ring.buffer(id), count: Int(result)))
                    ring.returnBuffer(id)
                } else {
                    hold(id, length: UInt32(result), for: connection)
                }
            } else {
                connection.received(UnsafeRawBufferPointer(start: ring.buffer(id), count: Int(result)))
                ring.returnBuffer(id)
            }
        } else if result == 0 {
            if hasBuffer { ring.returnBuffer(id) }
            loop.counters.receiveCalls += 1
            connection.receivedEnd()
            return
        } else if result == -ENOBUFS {
            // Every buffer was out: armed again on a later turn, not now (it would only
            // find them out again).
            loop.counters.receiveBufferShortages += 1
            if !more { shortOfBuffers.append(connection) }
            return
        } else if result < 0 && result != -ECANCELED {
            connection.receiveFailed(code: -result)
            return
        }
        if connection.io.operation == .idle { update(connection) }
    }

    // MARK: held input

    /// Keeps buffer `id` (`length` bytes) for `connection`, after what it holds already;
    /// past the hold limit, what it holds and this are copied into the connection.
    private func hold(_ id: UInt32, length: UInt32, for connection: Connection) {
        // A connection paused for its server's memory budget holds without limit: a copy
        // would be charged to the budget, which then could never fall far enough for it
        // to resume and hand over what it holds (seen: 48 echo clients, 8.9 MB kept,
        // every connection paused for good). Past the limit the loop's other connections
        // may find every buffer out for a while (ENOBUFS: they retry, backing off).
        guard heldCount < holdLimit || connection.state.pausedByBudget else {
            spill(connection)
            connection.keep(UnsafeRawBufferPointer(start: ring.buffer(id), count: Int(length)))
            ring.returnBuffer(id)
            return
        }
        let buffer = UInt16(id)
        heldNext[Int(buffer)] = TransportSlot.noBuffer
        heldLength[Int(buffer)] = length
        if connection.io.holdsInput {
            heldNext[Int(connection.io.heldLast)] = buffer
        } else {
            connection.io.heldFirst = buffer
        }
        connection.io.heldLast = buffer
        heldCount += 1
        if connection.state.wantsToRead { queueDelivery(connection) }
    }

    /// Takes the first held buffer off `connection`'s chain.
    private func takeHeld(_ connection: Connection) -> (id: UInt32, length: Int) {
        let buffer = connection.io.heldFirst
        connection.io.heldFirst = heldNext[Int(buffer)]
        if connection.io.heldFirst == TransportSlot.noBuffer { connection.io.heldLast = TransportSlot.noBuffer }
        heldCount -= 1
        return (UInt32(buffer), Int(heldLength[Int(buffer)]))
    }

    /// Copies what `connection` holds into the connection (in order) and gives the
    /// buffers back: for when no more may be held.
    private func spill(_ connection: Connection) {
        while connection.io.holdsInput {
            let (id, length) = takeHeld(connection)
            connection.keep(UnsafeRawBufferPointer(start: ring.buffer(id), count: length))
            ring.returnBuffer(id)
        }
    }

    /// Gives back every buffer `connection` holds, unread (it is closing).
    private func releaseHeld(_ connection: Connection) {
        while connection.io.holdsInput { ring.returnBuffer(takeHeld(connection).id) }
        connection.io.deliveryQueued = false
    }

    private func queueDelivery(_ connection: Connection) {
        guard !connection.io.deliveryQueued, connection.state.wantsToRead else { return }
        connection.io.deliveryQueued = true
        readyToDeliver.append(connection)
    }

    /// Hands each queued connection its held input, in order, while it takes input;
    /// one that pauses again keeps the rest for its next resume.
    private func deliverHeld() {
        let ready = readyToDeliver
        readyToDeliver.removeAll(keepingCapacity: true)
        for connection in ready {
            connection.io.deliveryQueued = false
            while connection.io.holdsInput && connection.state.phase == .open && connection.mayReceive() {
                let (id, length) = takeHeld(connection)
                connection.received(UnsafeRawBufferPointer(start: ring.buffer(id), count: length))
                ring.returnBuffer(id)
            }
            if connection.state.phase == .closed {
                releaseHeld(connection)
            } else if !connection.io.holdsInput {
                connection.heldInputDelivered()
            }
        }
    }

    /// Arms again the receives that ran out of buffers: at the next turn, or after a
    /// growing pause when turn after turn runs short.
    private func rearmShortOfBuffers(on loop: EventLoop) {
        guard !shortOfBuffers.isEmpty else { return }
        let waiting = shortOfBuffers
        shortOfBuffers.removeAll(keepingCapacity: true)
        guard shortTurns > 2 else {
            for connection in waiting { update(connection) }
            return
        }
        let delay = UInt64(1_000_000) << UInt64(min(shortTurns - 3, 6))
        loop.schedule(afterNanoseconds: delay) { [weak self] in
            guard let self, !self.ring.isClosed else { return }
            for connection in waiting { self.update(connection) }
        }
    }

    private func sendCompleted(_ connection: Connection, result: Int32) {
        connection.io.sending = false
        guard connection.state.phase != .closed else { return }
        guard result >= 0 else {
            if result != -ECANCELED { connection.transportFailed(SocketError(code: -result, operation: "send")) }
            return
        }
        connection.loop.counters.sendCalls += 1
        connection.loop.counters.bytesSent += Int(result)
        let rest = connection.handedOverSent(Int(result))
        if rest.count > 0 {
            connection.loop.counters.partialSends += 1
            startSend(connection, rest)
            return
        }
        connection.handedOverDrained()
    }

    /// A connect finished (its socket became writable or failed), or a listener that
    /// accepts on readiness has connections waiting.
    private func deliverReadiness(token: UInt64, on loop: EventLoop) {
        switch loop.registry.target(for: token) {
        case .connection(let connection)?:
            connection.io.polling = false
            if connection.state.phase == .connecting { connection.connectFinished() }
        case .listener(let listener)?:
            listener.io.polling = false
            acceptBatch(listener, calls: calls, into: &acceptedFDs)
            armAccept(listener)
        case nil:
            break
        }
    }

    // MARK: listeners

    func register(_ listener: Listener) throws(SocketError) {
        listener.io.token = listener.loop.registry.add(.listener(listener), descriptor: listener.descriptor)
        armAccept(listener)
    }

    /// Puts the listener's accept (or readiness poll) in the ring, unless it is there,
    /// paused or closed.
    private func armAccept(_ listener: Listener) {
        guard listener.io.isRegistered, listener.isAccepting else { return }
        if listener.io.acceptsOnReadiness {
            guard !listener.io.polling else { return }
            listener.io.polling = true
            ring.poll(listener.descriptor, events: EpollFlag.readable, userData: Ring.userData(.readiness, token: listener.io.token))
        } else if listener.io.operation == .idle {
            listener.io.operation = .armed
            ring.accept(listener.descriptor, userData: Ring.userData(.accept, token: listener.io.token))
        }
    }

    func setAccepting(_ listener: Listener, _ accepting: Bool) {
        if accepting {
            armAccept(listener)
        } else if listener.io.operation == .armed {
            ring.cancel(Ring.userData(.accept, token: listener.io.token))
            listener.io.operation = .cancelling
        }
    }

    func close(_ listener: Listener) {
        guard listener.io.isRegistered else { return }
        let token = listener.io.token
        if listener.io.operation == .armed { ring.cancel(Ring.userData(.accept, token: token)) }
        if listener.io.polling { ring.cancel(Ring.userData(.readiness, token: token)) }
        listener.io.operation = .idle
        listener.io.polling = false
        ring.forget(descriptor: listener.descriptor)
        listener.loop.registry.remove(descriptor: listener.descriptor)
        // An armed accept keeps the listening socket, and its port, open until its
        // cancel has run, which DEFER_TASKRUN holds for our next wait: run it now, so
        // the port is free when the listener's close returns.
        if ring.isOnIssuerThread { ring.submit(runningDeferredWork: true) }
    }

    private func deliverAccept(result: Int32, token: UInt64, more: Bool, on loop: EventLoop) {
        guard case .listener(let listener)? = loop.registry.target(for: token) else {
            // Accepted for a listener closed since: nobody else would close it.
            if result >= 0 { Glibc.close(result) }
            return
        }
        if !more { listener.io.operation = .idle }
        if result >= 0 {
            listener.accepted(result)
        } else if result == -EINVAL && !more {
            // A kernel without multishot accept (before 5.19): readiness polls instead.
            listener.io.acceptsOnReadiness = true
        } else if result != -ECANCELED {
            listener.acceptFailed(code: -result)
        }
        armAccept(listener)
    }
}
