import CShim
import Glibc
import Synchronization

/// One epoll instance driven by one thread: it owns the connections and listeners
/// registered on it, their shared receive buffer and its timers.
///
/// Only `execute(_:)`, `enqueue(_:)` (its `TaskExecutor` face, which goes through
/// `execute`), `stop()`, `isInLoop` and `backend` may be used from any thread;
/// everything else belongs to the loop's own thread, and debug builds check that on
/// every call (`assertInLoop()`). From elsewhere, hop with `execute(_:)`, carrying
/// loop-only objects in a `LoopBound`. There are no locks on the read/write path.
public final class EventLoop: @unchecked Sendable {
    /// The I/O backend all sockets of this loop use.
    public let backend: IOBackend
    let calls: SystemCalls
    private let epollFD: Int32
    private let wakeFD: Int32
    private var registry = Registry()
    private let events = EpollEvents(capacity: 512)
    /// The io_uring ring of the `uring` backend (nil for the others): connections
    /// receive through it, and the epoll set is watched through it too, so one wait
    /// covers both.
    let ring: Ring?
    /// Output of connections closed while the ring was still sending it, kept until
    /// that send completes (the kernel reads the bytes until then), by token.
    private var retiredSends: [UInt64: ByteBuffer] = [:]
    /// The buffer every connection of this loop receives into (zero copy: handlers
    /// see views of it; only an incomplete tail is copied out).
    let receiveBuffer: UnsafeMutableRawBufferPointer
    /// What the handler of the connection being served writes while it processes its
    /// input, gathered for one send when it returns (the write side of the zero-copy
    /// read): one buffer for all the loop's connections, since one callback runs at a
    /// time. Only what the kernel does not take is copied into the connection's own
    /// buffer, so a connection that is not backpressured keeps no output storage.
    @exclusivity(unchecked) var gather = GatherBuffer()
    /// The connection whose output `gather` holds now, if any.
    @exclusivity(unchecked) var gatherOwner: ObjectIdentifier?
    private var timers = TimerQueue()
    private let inbox = Locked(Inbox())
    private let stopRequested = Atomic<Bool>(false)
    private let loopThread = Atomic<UInt>(0)
    // `@exclusivity(unchecked)` on the loop-only counters and clock: they are touched
    // once or more per message from connections, and no access spans a call out.
    /// Monotonic nanoseconds read once per loop iteration: a cheap "now" for connections.
    @exclusivity(unchecked) private(set) var now: UInt64 = Monotonic.now()
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

    private static let wakeToken = UInt64.max

    /// Tasks handed to the loop from other threads, and whether it still takes them.
    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        var accepting = true
    }

    /// Creates a loop (its epoll set and wake-up eventfd); call `run()` on the thread
    /// that should drive it. Allocates the receive buffer (64 KiB by default).
    public init(backend: IOBackend = .shim, receiveBufferSize: Int = 64 * 1024) throws(SocketError) {
        precondition(receiveBufferSize > 0, "a loop needs a receive buffer")
        self.backend = backend
        self.calls = SystemCalls(backend: backend)
        let epoll = calls.epollCreate()
        guard epoll >= 0 else { throw SocketError(code: Int32(-epoll), operation: "epoll_create1") }
        self.epollFD = Int32(epoll)
        let wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wake >= 0 else {
            let code = errno
            Glibc.close(Int32(epoll))
            throw SocketError(code: code, operation: "eventfd")
        }
        self.wakeFD = wake
        if backend == .uring {
            do throws(SocketError) {
                if let reason = IOBackend.uringUnavailableReason {
                    throw SocketError(.system, operation: "io_uring is not available here: \(reason)")
                }
                let ring = try Ring()
                ring.poll(epollFD, events: EpollFlag.readable, userData: Ring.userData(.epoll, token: 0))
                ring.poll(wake, events: EpollFlag.readable, multishot: true, userData: Ring.userData(.wake, token: 0))
                self.ring = ring
            } catch {
                Glibc.close(wake)
                Glibc.close(Int32(epoll))
                throw error
            }
        } else {
            self.ring = nil
        }
        self.receiveBuffer = .allocate(byteCount: receiveBufferSize, alignment: 16)
        // With the ring, wake-ups come through it (a multishot poll of the eventfd).
        if ring != nil { return }
        let added = calls.epollControl(epollFD, EPOLL_CTL_ADD, wakeFD, events: EpollFlag.readable, token: Self.wakeToken)
        guard added == 0 else {
            receiveBuffer.deallocate()
            Glibc.close(wake)
            Glibc.close(Int32(epoll))
            throw SocketError(code: Int32(-added), operation: "epoll_ctl(ADD eventfd)")
        }
    }

    deinit {
        Glibc.close(epollFD)
        Glibc.close(wakeFD)
        receiveBuffer.deallocate()
    }

    /// True when called on the thread running this loop.
    public var isInLoop: Bool { loopThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// True on the loop's thread, and on any thread while the loop is not running (a
    /// loop being set up before `run()`, or a stopped one, belongs to whoever holds it).
    var ownsCurrentThread: Bool {
        let running = loopThread.load(ordering: .relaxed)
        return running == 0 || running == UInt(pthread_self())
    }

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

    /// Runs the loop on the calling thread until `stop()`; then, with
    /// `closingRegistered` (the default), runs the tasks already handed to it, refuses
    /// any later ones, and closes everything still registered (waiting callers get
    /// `SocketError.Kind.loopStopped`). Without it, connections survive and a later
    /// `run()` carries on with them (a benchmark drives its client this way).
    public func run(closingRegistered: Bool = true) {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
        defer {
            stopRequested.store(false, ordering: .relaxed)
            loopThread.store(0, ordering: .relaxed)
        }
        ring?.enableOnThisThread()
        while !stopRequested.load(ordering: .acquiring) {
            if let ring {
                guard waitOnRing(ring) else { continue }
            } else {
                let ready = calls.epollWait(epollFD, events, timeoutMilliseconds: nextTimeoutMilliseconds())
                now = Monotonic.now()
                if ready < 0 {
                    precondition(Int32(-ready) == EINTR, "epoll_wait failed: errno \(-ready)")
                    continue
                }
                counters.wakeUps += 1
                counters.events += ready
                dispatchReadiness(ready)
            }
            fireDueTimers()
            if localWorkPending {
                localWorkPending = false
                drainInbox(closing: false, woken: false)
            }
        }
        drainInbox(closing: closingRegistered)
        if closingRegistered {
            let stopped = SocketError(.loopStopped, operation: "event loop")
            for target in registry.all { target.loopDidStop(stopped) }
        }
        if closingRegistered {
            // Finished for good: nothing is left to read or send, so the ring goes now,
            // on its own thread (see `Ring.close`).
            ring?.close()
        } else {
            // Cancels queued by closes must reach the kernel, or the sockets stay open
            // (no FIN) while the loop is not running.
            ring?.submit()
        }
    }

    /// Hands each ready descriptor of the epoll set to its target.
    private func dispatchReadiness(_ ready: Int) {
        for index in 0..<ready {
            let token = events.token(index)
            if token == Self.wakeToken {
                drainInbox(closing: false)
            } else if let target = registry.target(for: token) {
                target.handleEvents(events.flags(index))
            }
        }
    }

    /// One turn of the `uring` backend: submits what the turn queued, waits for
    /// completions and hands them out. Returns false when the wait was interrupted.
    private func waitOnRing(_ ring: Ring) -> Bool {
        let count = ring.wait(timeoutNanoseconds: nextTimeoutNanoseconds())
        now = Monotonic.now()
        if count < 0 {
            precondition(Int32(-count) == EINTR, "io_uring_enter failed: errno \(-count)")
            return false
        }
        counters.wakeUps += 1
        counters.events += count
        for index in 0..<count {
            let completion = ring.completions[index]
            let (kind, token) = Ring.split(completion.user_data)
            switch kind {
            case Ring.Kind.receive.rawValue:
                deliverReceive(completion, token: token, ring: ring)
            case Ring.Kind.send.rawValue:
                if let target = registry.target(for: token) {
                    target.sendCompleted(result: completion.result)
                } else {
                    retiredSends[token] = nil
                }
            case Ring.Kind.accept.rawValue:
                deliverAccept(completion, token: token)
            case Ring.Kind.wake.rawValue:
                drainInbox(closing: false)
                var completion = completion
                if cshim_completion_more(&completion) == 0 {
                    ring.poll(wakeFD, events: EpollFlag.readable, multishot: true, userData: Ring.userData(.wake, token: 0))
                }
            case Ring.Kind.epoll.rawValue:
                // A one-shot poll: the epoll set is level-triggered, so asking again after
                // reading it loses nothing.
                let ready = calls.epollWait(epollFD, events, timeoutMilliseconds: 0)
                if ready > 0 { dispatchReadiness(ready) }
                ring.poll(epollFD, events: EpollFlag.readable, userData: Ring.userData(.epoll, token: 0))
            default:
                break
            }
        }
        return true
    }

    /// Hands a receive completion to its connection, then gives its buffer back to the
    /// kernel (also when the connection has closed since: the buffer is the ring's).
    @inline(__always)
    private func deliverReceive(_ completion: cshim_completion, token: UInt64, ring: Ring) {
        var completion = completion
        let more = cshim_completion_more(&completion) != 0
        let target = registry.target(for: token)
        guard cshim_completion_has_buffer(&completion) != 0 else {
            target?.receiveCompleted(result: completion.result, bytes: nil, more: more)
            return
        }
        let id = cshim_completion_buffer_id(&completion)
        let bytes = UnsafeRawBufferPointer(start: ring.buffer(id), count: max(Int(completion.result), 0))
        target?.receiveCompleted(result: completion.result, bytes: bytes, more: more)
        ring.returnBuffer(id)
    }

    /// Hands an accept completion to its listener; a socket accepted for a listener
    /// closed since is closed here, or nobody would.
    private func deliverAccept(_ completion: cshim_completion, token: UInt64) {
        var completion = completion
        let more = cshim_completion_more(&completion) != 0
        if let target = registry.target(for: token) {
            target.acceptCompleted(result: completion.result, more: more)
        } else if completion.result >= 0 {
            Glibc.close(completion.result)
        }
    }

    /// Keeps `buffer`, which a send in the ring still reads, until that send's
    /// completion (for a connection that closed meanwhile).
    func retire(_ buffer: ByteBuffer?, token: UInt64) {
        if let buffer { retiredSends[token] = buffer }
    }

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
        let tasks = inbox.withLock { inbox -> [@Sendable () -> Void] in
            let taken = inbox.tasks
            inbox.tasks.removeAll(keepingCapacity: !closing)
            if closing { inbox.accepting = false }
            return taken
        }
        for task in tasks { task() }
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

    private func nextTimeoutMilliseconds() -> Int32 {
        let nanoseconds = nextTimeoutNanoseconds()
        // Round up so the loop never wakes just before a deadline and spins.
        return nanoseconds < 0 ? -1 : Int32((nanoseconds + 999_999) / 1_000_000)
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

    // MARK: registration

    /// Registers `target` for `descriptor`, watching `events`; returns its token. With
    /// the ring, a descriptor that watches nothing (a connection whose input comes
    /// through the ring) stays out of the epoll set until it does.
    @discardableResult
    func register(_ target: Selectable, descriptor: Int32, events: UInt32) throws(SocketError) -> UInt64 {
        assertInLoop()
        let token = registry.add(target, descriptor: descriptor)
        guard ring == nil || events != 0 else { return token }
        let raw = calls.epollControl(epollFD, EPOLL_CTL_ADD, descriptor, events: events, token: token)
        guard raw == 0 else {
            registry.remove(descriptor: descriptor)
            throw SocketError(code: Int32(-raw), operation: "epoll_ctl(ADD)")
        }
        registry.setWatched(descriptor: descriptor, true)
        return token
    }

    /// Changes the events watched for `descriptor`; throws what epoll said when it
    /// refuses (the caller closes that connection, not the process).
    func modify(descriptor: Int32, events: UInt32) throws(SocketError) {
        assertInLoop()
        let token = registry.token(descriptor: descriptor)
        let watched = registry.isWatched(descriptor: descriptor)
        let operation: Int32
        if ring != nil && events == 0 {
            guard watched else { return }
            operation = EPOLL_CTL_DEL
        } else {
            operation = watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD
        }
        let raw = calls.epollControl(epollFD, operation, descriptor, events: events, token: token)
        guard raw == 0 else {
            let name = operation == EPOLL_CTL_MOD ? "MOD" : operation == EPOLL_CTL_ADD ? "ADD" : "DEL"
            throw SocketError(code: Int32(-raw), operation: "epoll_ctl(\(name))")
        }
        registry.setWatched(descriptor: descriptor, operation != EPOLL_CTL_DEL)
    }

    /// Forgets `descriptor`. Closing a descriptor removes it from the epoll set, so
    /// `removeFromEpoll` is needed only when the descriptor stays open, and with the
    /// ring, whose operations in flight keep a closed socket alive until they end.
    func deregister(descriptor: Int32, removeFromEpoll: Bool = false) {
        assertInLoop()
        if (removeFromEpoll || ring != nil) && registry.isWatched(descriptor: descriptor) {
            _ = calls.epollControl(epollFD, EPOLL_CTL_DEL, descriptor, events: 0, token: 0)
        }
        registry.remove(descriptor: descriptor)
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
