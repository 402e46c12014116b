import Conduit
import Dispatch
import Synchronization

/// Runs async `body` from a thread that may block (the signal thread, not a loop's and
/// not Swift's pool) and returns its result.
func waitForAsync<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let result = Locked<T?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let value = await body()
        result.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    return result.withLock { $0! }
}
