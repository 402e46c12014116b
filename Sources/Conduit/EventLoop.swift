import CShim
import Glibc
import Synchronization

/// One epoll instance driven by one thread: it owns the connections and listeners
/// registered on it, their shared receive buffer and its timers.
///
/// Everything except `execute(_:)`, `stop()` and `isInLoop` must be called on the
/// loop's own thread; from elsewhere, hop with `execute(_:)`. There are no locks on
/// the read/write path.
public final class EventLoop: @unchecked Sendable {
    /// The I/O backend all sockets of this loop use.
    public let backend: IOBackend
    let calls: SystemCalls
    private let epollFD: Int32
    private let wakeFD: Int32
    private var registry: [Selectable?] = []
    private let events = EpollEvents(capacity: 512)
    /// The buffer every connection of this loop receives into (zero copy: handlers
    /// see views of it; only an incomplete tail is copied out).
    let receiveBuffer: UnsafeMutableRawBufferPointer
    private var timers = TimerQueue()
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private let stopRequested = Atomic<Bool>(false)
    private let loopThread = Atomic<UInt>(0)
    /// Number of descriptors currently registered.
    public private(set) var registeredCount = 0 {
        didSet { registeredMirror.store(registeredCount, ordering: .relaxed) }
    }
    private let registeredMirror = Atomic<Int>(0)

    /// `registeredCount` readable from any thread (for waiting on a drain).
    public var registeredCountFromAnyThread: Int { registeredMirror.load(ordering: .relaxed) }
    /// Monotonic time read once per loop iteration: cheap "now" for connections.
    public private(set) var now: UInt64 = Monotonic.now()
    private var sweepTimer: Timer?

    private static let wakeToken = UInt64.max

    /// Creates a loop (its epoll set and wake-up eventfd); call `run()` on the thread
    /// that should drive it. Allocates the receive buffer (64 KiB by default).
    public init(backend: IOBackend = .shim, receiveBufferSize: Int = 64 * 1024) throws(SocketError) {
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
        self.receiveBuffer = .allocate(byteCount: receiveBufferSize, alignment: 16)
        let added = calls.epollControl(epollFD, EPOLL_CTL_ADD, wakeFD, events: EpollFlag.readable, token: Self.wakeToken)
        precondition(added == 0, "cannot watch the loop's eventfd")
    }

    deinit {
        Glibc.close(epollFD)
        Glibc.close(wakeFD)
        receiveBuffer.deallocate()
    }

    /// True when called on the thread running this loop.
    public var isInLoop: Bool { loopThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Runs the loop on the calling thread until `stop()`; then, with
    /// `closingRegistered` (the default), closes everything still registered. Without
    /// it, connections survive and a later `run()` carries on with them (a benchmark
    /// drives its client this way, one batch of round trips per `run`).
    public func run(closingRegistered: Bool = true) {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
        defer { stopRequested.store(false, ordering: .relaxed) }
        while !stopRequested.load(ordering: .acquiring) {
            let ready = calls.epollWait(epollFD, events, timeoutMilliseconds: nextTimeout())
            now = Monotonic.now()
            if ready < 0 {
                precondition(Int32(-ready) == EINTR, "epoll_wait failed: errno \(-ready)")
                continue
            }
            for index in 0..<ready {
                let token = events.token(index)
                if token == Self.wakeToken {
                    drainInbox()
                } else if let target = registry[Int(token)] {
                    target.handleEvents(events.flags(index))
                }
            }
            fireDueTimers()
        }
        drainInbox()
        if closingRegistered {
            for case let target? in registry { target.loopDidStop() }
        }
        loopThread.store(0, ordering: .relaxed)
    }

    /// Asks the loop to stop after the current iteration. Safe from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        wake()
    }

    /// Runs `task` on the loop thread soon. Safe from any thread; wakes the loop.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(task) }
        wake()
    }

    /// Runs `body` on the loop after `nanoseconds`. Call on the loop thread.
    @discardableResult
    public func schedule(afterNanoseconds nanoseconds: UInt64, _ body: @escaping () -> Void) -> Timer {
        timers.schedule(deadline: Monotonic.now() &+ nanoseconds, body)
    }

    /// Checks every connection's idle timeout and deadline every `intervalNanoseconds`
    /// (one pass over the registry: cheaper than a timer per connection when there are
    /// 100,000 of them). Call on the loop; calling again changes nothing.
    public func enableTimeoutSweep(intervalNanoseconds: UInt64 = 250_000_000) {
        guard sweepTimer == nil else { return }
        scheduleSweep(intervalNanoseconds)
    }

    private func scheduleSweep(_ interval: UInt64) {
        // Weak: the timer lives in this loop's own queue.
        sweepTimer = schedule(afterNanoseconds: interval) { [weak self] in
            guard let self else { return }
            let now = Monotonic.now()
            for case let target? in self.registry { target.sweep(now: now) }
            self.scheduleSweep(interval)
        }
    }

    /// Asks everything registered to close gracefully (connections send what they have
    /// queued first; listeners close). Call on the loop.
    public func closeAllGracefully() {
        for case let target? in registry { target.closeGracefully() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    private func drainInbox() {
        var counter: UInt64 = 0
        _ = Glibc.read(wakeFD, &counter, 8)
        let tasks = inbox.withLock { pending -> [@Sendable () -> Void] in
            let taken = pending
            pending.removeAll(keepingCapacity: true)
            return taken
        }
        for task in tasks { task() }
    }

    private func nextTimeout() -> Int32 {
        guard let deadline = timers.earliestDeadline else { return -1 }
        let now = Monotonic.now()
        if deadline <= now { return 0 }
        // Round up so the loop never wakes just before a deadline and spins.
        return Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
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

    func register(_ target: Selectable, descriptor: Int32, events: UInt32) throws(SocketError) {
        let raw = calls.epollControl(epollFD, EPOLL_CTL_ADD, descriptor, events: events, token: UInt64(descriptor))
        guard raw == 0 else { throw SocketError(code: Int32(-raw), operation: "epoll_ctl(ADD)") }
        let index = Int(descriptor)
        if index >= registry.count {
            registry.append(contentsOf: repeatElement(nil, count: max(index + 1 - registry.count, registry.count)))
        }
        registry[index] = target
        registeredCount += 1
    }

    func modify(descriptor: Int32, events: UInt32) {
        let raw = calls.epollControl(epollFD, EPOLL_CTL_MOD, descriptor, events: events, token: UInt64(descriptor))
        precondition(raw == 0, "epoll_ctl(MOD) failed: errno \(-raw)")
    }

    /// Forgets `descriptor`. Closing a descriptor removes it from the epoll set, so
    /// `removeFromEpoll` is needed only when the descriptor stays open.
    func deregister(descriptor: Int32, removeFromEpoll: Bool = false) {
        if removeFromEpoll {
            _ = calls.epollControl(epollFD, EPOLL_CTL_DEL, descriptor, events: 0, token: 0)
        }
        let index = Int(descriptor)
        if index < registry.count, registry[index] != nil {
            registry[index] = nil
            registeredCount -= 1
        }
    }
}
