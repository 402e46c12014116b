import Glibc

/// What a non-blocking call did, once the one policy of `interpret` is applied.
enum IOResult: Equatable {
    /// The call completed with this non-negative result (bytes, a descriptor, a count).
    case processed(Int)
    /// The kernel said `EAGAIN`: nothing now, try again when epoll says so.
    case wouldBlock

    /// The policy for every raw result of `SystemCalls`: `EAGAIN` is a normal outcome,
    /// `EBADF`/`EFAULT` can only be our own bug and stop the process, anything else
    /// becomes a `SocketError` naming the operation. `EINTR` is left to the caller,
    /// which retries in its own loop.
    static func interpret(_ raw: Int, _ operation: StaticString) throws(SocketError) -> IOResult {
        if raw >= 0 { return .processed(raw) }
        let code = Int32(-raw)
        switch code {
        case EAGAIN, EWOULDBLOCK:
            return .wouldBlock
        case EBADF, EFAULT, ENOTSOCK:
            preconditionFailure("\(operation) on an invalid descriptor: errno \(code)")
        default:
            throw SocketError(code: code, operation: operation.description)
        }
    }
}
