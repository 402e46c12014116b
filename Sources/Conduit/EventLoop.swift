import CShim
import Glibc
import Synchronization

/// One event loop driven by one thread: it owns the connections and listeners
/// registered on it, the transport that moves their bytes (epoll, or an io_uring ring;
/// see `Transport`), a shared receive buffer and its timers.
///
/// Only `execute(_:)`, `enqueue(_:)` (its `TaskExecutor` face, which goes through
/// `execute`), `stop()`, `isInLoop`, `failure` and `backend` may be used from any
/// thread; everything else belongs to the loop's thread, and debug builds check that on
/// every call (`assertInLoop()`). From elsewhere, hop with `execute(_:)`, carrying
/// loop-only objects in a `LoopBound`. There are no locks on the read/write path.
///
/// A loop's life: the thread that makes it owns it until a thread runs it; from then on
/// the thread that last ran it owns it, also while it is stopped. A `uring` loop runs on
/// one thread for its whole life (the ring's only issuer). A run that closes what was
/// registered (`run()`, the default) finishes the loop for good: running it again stops
/// the process with a message, and work given to it fails with
/// `SocketError.Kind.loopStopped`.
public final class EventLoop: @unchecked Sendable {
    /// The I/O backend all sockets of this loop use.
    public let backend: IOBackend
    let calls: SystemCalls
    private let wakeFD: Int32
    /// Connections and listeners, by descriptor; transports look their events up here.
    @exclusivity(unchecked) var registry = Registry()
    /// How this loop's sockets move their bytes (holding its transport unowned).
    let transport: LoopTransport
    /// The transport `transport` calls: kept alive here, as long as the loop.
    private let transportOwner: AnyObject
    /// The buffer every connection of this loop receives into on epoll (zero copy:
    /// handlers see views of it; only an incomplete tail is copied out).
    let receiveBuffer: UnsafeMutableRawBufferPointer
    /// What the handler of the connection being served writes while it processes its
    /// input, gathered for one send when it returns (the write side of the zero-copy
    /// read): one buffer for all the loop's connections, since one callback runs at a
    /// time. Only what the kernel does not take is copied into the connection's own
    /// buffer, so a connection that is not backpressured keeps no output storage.
    @exclusivity(unchecked) var gather = GatherBuffer()
    /// The connection whose output `gather` holds now, if any.
    @exclusivity(unchecked) var gatherOwner: ObjectIdentifier?
    /// Where TLS connections decrypt what they received before it is offered to their
    /// handlers (one for the loop, as `receiveBuffer`); made with the first TLS input.
    var tlsPlaintext: UnsafeMutableRawBufferPointer {
        if let tlsPlaintextStorage { return tlsPlaintextStorage }
        let made = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        tlsPlaintextStorage = made
        return made
    }
    private var tlsPlaintextStorage: UnsafeMutableRawBufferPointer?
    private var timers = TimerQueue()
    private let inbox = Locked(Inbox())
    private let stopRequested = Atomic<Bool>(false)
    /// The thread running the loop now (0: none).
    private let runningThread = Atomic<UInt>(0)
    /// The thread that owns the loop: its maker until it first runs, then the thread
    /// that ran it last.
    private let ownerThread = Atomic<UInt>(0)
    /// A run has closed everything: the loop may not run again.
    private var finished = false
    /// Why the loop's transport gave up, if it did (see `failure`).
    private let failureReason = Locked<SocketError?>(nil)
    // `@exclusivity(unchecked)` on the loop-only counters and clock: they are touched
    // once or more per message from connections, and no access spans a call out.
    /// Monotonic nanoseconds read once per loop iteration: a cheap "now" for connections.
    @exclusivity(unchecked) var now: UInt64 = Monotonic.now()
    private var sweepTimer: LoopTimer?
    /// Connections that stopped reading for their server's memory budget; each is
    /// offered the chance to resume when memory is given back on this loop, and at every
    /// timeout sweep (memory given back on another loop).
    private var pausedForMemory: [Connection] = []
    /// What this loop's connections have done (see `TransportCounters`); loop-only.
    @exclusivity(unchecked) var counters = TransportCounters()
    /// Work queued from this loop's own thread since the last drain: it is run at the
    /// end of the iteration without the eventfd write and wake-up a hop from another
    /// thread needs (async code on the loop hops to it several times per message).
    @exclusivity(unchecked) private var localWorkPending = false

    /// The tasks being run by a drain (the inbox's array, swapped out); loop-only.
    private var draining: [@Sendable () -> Void] = []

    /// Tasks handed to the loop from other threads, and whether it still takes them.
    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        var accepting = true
    }

    /// Creates a loop (its transport and wake-up eventfd), owned by the calling thread
    /// until a thread runs it: call `run()` on the thread that should drive it.
    /// Allocates the receive buffer (64 KiB by default).
    public convenience init(backend: IOBackend = .shim, receiveBufferSize: Int = 64 * 1024) throws(SocketError) {
        try self.init(backend: backend, receiveBufferSize: receiveBufferSize, ring: .standard)
    }

    /// A loop whose ring (`uring` only) is made as `ring` says: tests make small ones.
    package init(backend: IOBackend, receiveBufferSize: Int = 64 * 1024, ring: Ring.Configuration) throws(SocketError) {
        precondition(receiveBufferSize > 0, "a loop needs a receive buffer")
        self.backend = backend
        self.calls = SystemCalls(backend: backend)
        let wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wake >= 0 else { throw SocketError(code: errno, operation: "eventfd") }
        self.wakeFD = wake
        do throws(SocketError) {
            if backend == .uring {
                let made = try RingTransport(calls: calls, wakeFD: wake, configuration: ring)
                (transport, transportOwner) = (LoopTransport(made), made)
            } else {
                let made = try EpollTransport(calls: calls, wakeFD: wake)
                (transport, transportOwner) = (LoopTransport(made), made)
            }
        } catch {
            Glibc.close(wake)
            throw error
        }
        self.receiveBuffer = .allocate(byteCount: receiveBufferSize, alignment: 16)
        ownerThread.store(UInt(pthread_self()), ordering: .relaxed)
    }

    deinit {
        Glibc.close(wakeFD)
        receiveBuffer.deallocate()
        tlsPlaintextStorage?.deallocate()
    }

    /// True when called on the thread running this loop.
    public var isInLoop: Bool { runningThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// True while a thread runs the loop.
    var isRunning: Bool { runningThread.load(ordering: .relaxed) != 0 }

    /// True on the thread that owns the loop: the one running it, or while it is not
    /// running, the one that ran it last (its maker, before it ever ran).
    var ownsCurrentThread: Bool { ownerThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Stops the process with a clear message when called off this loop's thread while
    /// the loop runs. Checked in debug builds only, so the release hot path pays nothing.
    @inline(__always)
    public func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(ownsCurrentThread, "this must be called on its event loop's thread; hop there with loop.execute", file: file, line: line)
    }

    /// Stops the process with a clear message when called on this loop's thread, where
    /// a blocking wait for the loop itself could never end. Checked in every build.
    package func preconditionNotInLoop(_ what: StaticString, file: StaticString = #fileID, line: UInt = #line) {
        precondition(
            !isInLoop,
            "\(what) blocks until event loops act, so it cannot be called on an event loop's own thread (it would deadlock); call it elsewhere or use its async form",
            file: file, line: line)
    }

    /// Number of descriptors currently registered. Call on the loop.
    package var registeredCount: Int {
        assertInLoop()
        return registry.count
    }

    /// Why this loop stopped working on its own, if it did: its transport failed (an
    /// io_uring ring the kernel refused after all, say). Everything registered was then
    /// closed with this error, and `run()` returned. Safe from any thread.
    public var failure: SocketError? { failureReason.withLock { $0 } }

    /// The `uring` backend's ring (nil on epoll), for tests that look inside it. Loop-only.
    package var ring: Ring? { transport.ring?.ring }

    /// Send buffers of closed connections the ring still reads (`uring`). Loop-only.
    package var retiredSendCount: Int { transport.ring?.retiredSendCount ?? 0 }

    /// This loop's counts (see `TransportCounters`). Loop-only.
    package var currentCounters: TransportCounters { counters }

    /// True once a run has closed everything: the loop takes no more work.
    var hasFinished: Bool { finished }

    /// Runs the loop on the calling thread until `stop()`; then, with
    /// `closingRegistered` (the default), runs the tasks already handed to it, refuses
    /// any later ones, closes everything still registered (waiting callers get
    /// `SocketError.Kind.loopStopped`) and finishes for good. Without it, connections
    /// survive and a later `run()` carries on with them (a benchmark drives its client
    /// this way); meanwhile they belong to this thread.
    ///
    /// Running a finished loop stops the process with a message, as does running a
    /// `uring` loop on a thread other than the one that first ran it. When the transport
    /// fails (see `failure`), the loop closes everything with that error and returns.
    public func run(closingRegistered: Bool = true) {
        run(closingRegistered: closingRegistered) { _ in }
    }

    /// `run(closingRegistered:)` that says, through `started`, whether the transport
    /// could start on this thread (nil) or why not, before the first turn.
    package func run(closingRegistered: Bool, started: (SocketError?) -> Void) {
        precondition(!finished, "this event loop has finished (a run closed everything it had); make a new EventLoop")
        let me = UInt(pthread_self())
        ownerThread.store(me, ordering: .relaxed)
        runningThread.store(me, ordering: .relaxed)
        defer {
            stopRequested.store(false, ordering: .relaxed)
            runningThread.store(0, ordering: .relaxed)
        }
        do throws(SocketError) {
            try transport.prepareToRun(on: self)
        } catch {
            started(error)
            fail(error)
            return
        }
        started(nil)
        do throws(SocketError) {
            while !stopRequested.load(ordering: .acquiring) {
                registry.beginTurn()
                try transport.turn(on: self, timeoutNanoseconds: nextTimeoutNanoseconds())
                // Nothing of the turn is on the stack: what closed during it may go.
                registry.releaseRetired()
                fireDueTimers()
                if localWorkPending {
                    localWorkPending = false
                    drainInbox(closing: false, woken: false)
                }
            }
        } catch {
            fail(error)
            return
        }
        if closingRegistered {
            finish(closingWith: SocketError(.loopStopped, operation: "event loop"))
        } else {
            drainInbox(closing: false, woken: false)
            transport.loopStopped(on: self)
        }
    }

    /// Starts the transport on the calling thread, which will run the loop (for the ring:
    /// enables it, making this thread its issuer, and enters it once), so that a kernel
    /// that refuses says so now. `run()` does the same when not done before.
    package func prepareToRun() throws(SocketError) {
        precondition(!finished, "this event loop has finished (a run closed everything it had); make a new EventLoop")
        ownerThread.store(UInt(pthread_self()), ordering: .relaxed)
        try transport.prepareToRun(on: self)
    }

    /// The transport cannot go on: everything closes with `error`, kept as `failure`.
    private func fail(_ error: SocketError) {
        failureReason.withLock { $0 = error }
        finish(closingWith: error)
    }

    /// Runs the tasks already handed over, refuses later ones, closes everything
    /// registered with `error`, and lets the transport end what is in the kernel.
    private func finish(closingWith error: SocketError) {
        finished = true
        drainInbox(closing: true, woken: false)
        for target in registry.all { target.loopDidStop(error) }
        // Nothing is left to read or send: the transport ends what is still in the
        // kernel and closes, on this thread (the ring's issuer).
        transport.finish(on: self)
        // Nothing will fire any more (a timer holding a connection would keep the loop).
        timers.removeAll()
        sweepTimer = nil
        pausedForMemory.removeAll()
        registry.releaseRetired()
    }

    /// The loop's wake-up eventfd fired: another thread handed it work.
    func wokenUp() { drainInbox(closing: false) }

    /// Asks the loop to stop after the current iteration. Safe from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        wake()
    }

    /// Runs `task` on the loop thread soon. Safe from any thread; wakes the loop.
    /// Throws `SocketError.Kind.loopStopped`, without running `task`, once the loop has
    /// finished for good (`run()` returned after closing what was registered).
    public func execute(_ task: @escaping @Sendable () -> Void) throws(SocketError) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard inbox.accepting else { return false }
            inbox.tasks.append(task)
            return true
        }
        guard accepted else { throw SocketError(.loopStopped, operation: "execute") }
        if isInLoop {
            localWorkPending = true
        } else {
            wake()
        }
    }

    /// Runs `body` on the loop after `delay`. Call on the loop.
    @discardableResult
    public func schedule(after delay: Duration, _ body: @escaping () -> Void) -> LoopTimer {
        schedule(afterNanoseconds: delay.nanoseconds, body)
    }

    @discardableResult
    func schedule(afterNanoseconds nanoseconds: UInt64, _ body: @escaping () -> Void) -> LoopTimer {
        assertInLoop()
        return timers.schedule(deadline: Monotonic.now() &+ nanoseconds, body)
    }

    /// Checks every connection's idle timeout and deadline every `interval` (one pass
    /// over the registry: cheaper than a timer per connection when there are 100,000
    /// of them). Call on the loop; calling again changes nothing.
    public func enableTimeoutSweep(interval: Duration = .milliseconds(250)) {
        assertInLoop()
        guard sweepTimer == nil else { return }
        scheduleSweep(interval.nanoseconds)
    }

    private func scheduleSweep(_ interval: UInt64) {
        // unowned(unsafe): the timer lives in this loop's own queue, so it never outlives
        // the loop; a weak reference would give the loop a side table for nothing.
        sweepTimer = schedule(afterNanoseconds: interval) { [unowned(unsafe) self] in
            let now = Monotonic.now()
            self.resumePausedForMemory()
            for target in self.registry.all { target.sweep(now: now) }
            self.scheduleSweep(interval)
        }
    }

    /// Remembers a connection that stopped reading for its memory budget.
    func pausedForMemory(_ connection: Connection) {
        pausedForMemory.append(connection)
    }

    /// Lets each connection paused for its memory budget read again if its budget now
    /// allows; those it does not allow yet stay on the list.
    func resumePausedForMemory() {
        guard !pausedForMemory.isEmpty else { return }
        let waiting = pausedForMemory
        pausedForMemory.removeAll(keepingCapacity: true)
        for connection in waiting { connection.resumeIfMemoryAllows() }
    }

    /// Asks everything registered by `owner` to finish (`Selectable.quiesce`): handlers
    /// complete work in flight, then connections send what they have queued, end their
    /// side and drain the peer's input for at most `drainLimit`. Call on the loop.
    func quiesce(ownedBy owner: AnyObject, drainLimit: Duration) {
        assertInLoop()
        for target in registry.all where target.owner === owner { target.quiesce(drainLimit: drainLimit) }
    }

    /// Closes at once everything registered by `owner`. Call on the loop.
    func closeNow(ownedBy owner: AnyObject) {
        assertInLoop()
        for target in registry.all where target.owner === owner { target.closeNow() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Runs the tasks queued so far; `woken` when the eventfd fired (it is reset then).
    private func drainInbox(closing: Bool, woken: Bool = true) {
        if woken {
            var counter: UInt64 = 0
            _ = Glibc.read(wakeFD, &counter, 8)
        }
        // Swapped with the loop's own empty array rather than copied out: taking a copy
        // and then emptying the inbox "keeping capacity" made a new buffer of the old
        // size at every drain.
        inbox.withLock { inbox in
            swap(&inbox.tasks, &draining)
            if closing { inbox.accepting = false }
        }
        for task in draining { task() }
        // Kept for the next drain, unless a burst made it large.
        draining.removeAll(keepingCapacity: draining.capacity <= 1024)
    }

    /// How long the next wait may last, in nanoseconds; -1: until something happens.
    private func nextTimeoutNanoseconds() -> Int64 {
        // Work this loop gave itself runs after a look at the sockets, without a wait.
        if localWorkPending { return 0 }
        guard let deadline = timers.earliestDeadline else { return -1 }
        let now = Monotonic.now()
        if deadline <= now { return 0 }
        return Int64(min(deadline - now, 60_000_000_000))
    }

    private func fireDueTimers() {
        guard !timers.isEmpty else { return }
        let now = Monotonic.now()
        while let timer = timers.popDue(now: now) {
            if let body = timer.body {
                timer.body = nil
                body()
            }
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating: negative durations are 0, huge ones `UInt64.max`.
    package var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (total, overflow2) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflow2 ? .max : total
    }
}
