import Synchronization

/// A `Mutex` in a class, for state that closures running on several threads share.
/// A `Mutex` captured directly by such closures is boxed, and every `withLock` is then
/// an exclusivity access to the box that ThreadSanitizer reports as a race when two
/// threads take the lock at once; a `let` of a class is not checked that way.
package final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    /// Holds `value`.
    package init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` with the value while holding the lock.
    package func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
