import Synchronization

/// The bytes a server's connections may hold in buffers at once, across all its loops:
/// input kept for incomplete messages (or reserved for one announced to come, see
/// `Connection.reserveInput`) and output the peers have not taken yet.
///
/// Above the limit, connections stop reading (so no new input is buffered and no new
/// requests make new output) until use falls to three quarters of it; a handler may
/// refuse a large message at once instead (`reserveInput` returning false). What is in
/// flight when the limit is crossed still completes, so the use can pass the limit by
/// at most what one read and its answers add on each loop.
final class MemoryBudget: Sendable {
    /// The limit in bytes.
    let limit: Int
    private let resumeAt: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = max(limit, 1)
        resumeAt = self.limit - self.limit / 4
    }

    /// Bytes held now.
    var bytesInUse: Int { used.load(ordering: .relaxed) }

    /// True when reading must pause.
    var isExhausted: Bool { used.load(ordering: .relaxed) > limit }

    /// True when reading paused for the budget may resume.
    var allowsResuming: Bool { used.load(ordering: .relaxed) <= resumeAt }

    /// Adds `bytes` (negative: gives them back).
    func adjust(by bytes: Int) {
        used.add(bytes, ordering: .relaxed)
    }

    /// Adds `bytes` if the total stays within the limit; false, adding nothing, if not.
    func tryAdd(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while current + bytes <= limit {
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }
}
