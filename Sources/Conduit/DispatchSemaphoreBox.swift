import Dispatch

/// Waits for `count` signals from other threads (loops acknowledging a task).
struct DispatchSemaphoreBox: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int) { self.count = count }

    func signal() { semaphore.signal() }

    func wait() {
        for _ in 0..<count { semaphore.wait() }
    }
}
