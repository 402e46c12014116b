import Glibc

/// What a non-blocking call did, once the one policy of `interpret` is applied. Every
/// call site of `SystemCalls` goes through it, so `EINTR`, `EAGAIN` and errors are
/// handled the same way everywhere.
package enum IOResult: Equatable {
    /// The call completed with this non-negative result (bytes, a descriptor, a count).
    case processed(Int)
    /// The kernel said `EAGAIN`: nothing now, try again when epoll says so.
    case wouldBlock
    /// The call failed with this `errno` (never `EINTR` or `EAGAIN`).
    case failed(Int32)

    /// The policy for one raw result (`n >= 0` or `-errno`): `EAGAIN` is a normal
    /// outcome; `EBADF`, `EFAULT` and `ENOTSOCK` can only be our own bug (a descriptor
    /// used after close, a bad pointer) and stop the process; anything else is a
    /// failure of that call for the caller to report. `EINTR` is retried by
    /// `retryingInterrupts`.
    @inline(__always)
    package static func interpret(_ raw: Int) -> IOResult {
        if raw >= 0 { return .processed(raw) }
        let code = Int32(truncatingIfNeeded: -raw)
        switch code {
        case EAGAIN, EWOULDBLOCK:
            return .wouldBlock
        case EBADF, EFAULT, ENOTSOCK:
            preconditionFailure("a system call on an invalid descriptor or buffer: errno \(code)")
        default:
            return .failed(code)
        }
    }

    /// Makes `call` (returning `n` or `-errno`) until it is not interrupted, then
    /// applies `interpret`.
    @inline(__always)
    package static func retryingInterrupts(_ call: () -> Int) -> IOResult {
        var raw: Int
        repeat { raw = call() } while raw == -Int(EINTR)
        return interpret(raw)
    }
}
