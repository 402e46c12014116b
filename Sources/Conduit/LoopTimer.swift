/// A one-shot timer scheduled on an event loop (`EventLoop.schedule(after:_:)`);
/// cancel it to stop it from firing. Named so it never collides with `Foundation.Timer`.
public final class LoopTimer {
    let deadline: UInt64
    let sequence: UInt64
    var body: (() -> Void)?

    init(deadline: UInt64, sequence: UInt64, body: @escaping () -> Void) {
        self.deadline = deadline
        self.sequence = sequence
        self.body = body
    }

    /// Stops the timer from firing. Call on the timer's loop.
    public func cancel() { body = nil }

    /// False once the timer has fired or been cancelled.
    public var isPending: Bool { body != nil }
}

/// The loop's timers: a binary min-heap on deadline (ties fire in scheduling order).
struct TimerQueue {
    private var heap: [LoopTimer] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }

    /// Drops every timer unfired: their closures may hold connections, which hold the
    /// loop, so a finished loop that kept them would never be freed.
    mutating func removeAll() {
        for timer in heap { timer.body = nil }
        heap.removeAll()
    }
    var earliestDeadline: UInt64? { heap.first?.deadline }

    mutating func schedule(deadline: UInt64, _ body: @escaping () -> Void) -> LoopTimer {
        nextSequence += 1
        let timer = LoopTimer(deadline: deadline, sequence: nextSequence, body: body)
        heap.append(timer)
        siftUp(heap.count - 1)
        return timer
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(now: UInt64) -> LoopTimer? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first
    }

    private func before(_ a: LoopTimer, _ b: LoopTimer) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && before(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && before(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
