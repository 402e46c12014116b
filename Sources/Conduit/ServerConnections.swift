import Dispatch
import Synchronization

/// A server's open connections across its loops: how many there are (an atomic, so
/// any thread may read it), the limit check on accept, and who waits for the count to
/// reach zero during a graceful stop. Each accepted connection points here, which is
/// how a server finds, and closes, only its own connections.
final class ServerConnections: Sendable {
    /// What their buffers may hold at once (nil: no limit).
    let memory: MemoryBudget?
    /// The TLS every connection speaks, if any.
    let tls: TLSContext?
    /// Nanoseconds a TLS handshake may take (0: no limit).
    let tlsHandshakeTimeout: UInt64
    private let value = Atomic<Int>(0)
    private let drainWaiters = Locked<[@Sendable () -> Void]>([])

    init(options: ServerOptions = ServerOptions()) {
        memory = options.memoryBudget.map(MemoryBudget.init(limit:))
        tls = options.tls
        tlsHandshakeTimeout = options.tlsHandshakeTimeout.nanoseconds
    }

    /// Adds one if that stays within `limit`; false (and nothing added) otherwise.
    func tryAdd(limit: Int?) -> Bool {
        guard let limit else {
            value.add(1, ordering: .relaxed)
            return true
        }
        var current = value.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = value.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// One connection closed.
    func remove() {
        if value.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { notifyDrained() }
    }

    /// Open connections now.
    var count: Int { value.load(ordering: .relaxed) }

    /// Calls `waiter` once, as soon as no connection is open (at once if none is).
    func whenDrained(_ waiter: @escaping @Sendable () -> Void) {
        drainWaiters.withLock { $0.append(waiter) }
        // Checked after registering, so a close racing with this call is not missed.
        if value.load(ordering: .acquiring) == 0 { notifyDrained() }
    }

    private func notifyDrained() {
        let waiters = drainWaiters.withLock { waiters -> [@Sendable () -> Void] in
            let taken = waiters
            waiters.removeAll()
            return taken
        }
        for waiter in waiters { waiter() }
    }
}
