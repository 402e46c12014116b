import Synchronization

/// A `Mutex` in a class, for state that closures running on several threads share,
/// with the ordering the lock provides made visible to ThreadSanitizer.
///
/// Two reasons it exists. A `Mutex` captured directly by such closures is boxed, and
/// every `withLock` is then an exclusivity access to the box, which ThreadSanitizer
/// reports as a race when two threads take the lock at once; a `let` of a class is not
/// checked that way. And the standard library's `Mutex` locks with a futex inside the
/// (uninstrumented) runtime, so ThreadSanitizer cannot see that it orders the critical
/// sections: an acquire-release increment of an `Atomic` (compiled into this module,
/// so instrumented) shows it that order: each critical section ends with a release
/// increment and begins with an acquire load, which reads the previous section's
/// increment. It costs two uncontended atomics per lock, off the I/O path.
package final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    private let order = Atomic<UInt>(0)

    /// Holds `value`.
    package init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` with the value while holding the lock.
    package func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { value in
            _ = order.load(ordering: .acquiring)
            defer { order.wrappingAdd(1, ordering: .releasing) }
            return body(&value)
        }
    }
}
