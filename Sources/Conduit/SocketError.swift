import Glibc

/// A failed transport operation: what kind of failure it was, the `errno` the kernel
/// gave (0 when the failure is ours, not the kernel's) and what we were doing.
///
/// Decide by `kind`, never by the text of `operation`: `operation` is for people.
public struct SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, classified once from the `errno` (or set by Conduit itself).
    public enum Kind: Sendable, Equatable {
        /// Nothing listens at the address (`ECONNREFUSED`).
        case connectionRefused
        /// The peer reset the connection or is gone (`ECONNRESET`, `EPIPE`).
        case connectionReset
        /// The operation timed out (`ETIMEDOUT`).
        case timedOut
        /// The address is already in use (`EADDRINUSE`).
        case addressInUse
        /// The address cannot be used here (`EADDRNOTAVAIL`, `ENETUNREACH`, `EHOSTUNREACH`).
        case addressUnavailable
        /// Out of descriptors or kernel memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`).
        case outOfResources
        /// A server's own connection limit refused a connection.
        case connectionLimit
        /// The connection was not connected yet when this was asked of it, or had already
        /// been closed on this side (a send after `close()`).
        case notConnected
        /// The event loop has stopped: the work was not done and never will be.
        case loopStopped
        /// A caller broke the API's contract (for example a handler consumed more
        /// bytes than it was given); the connection concerned is closed.
        case misuse
        /// The task waiting for the operation was cancelled (async API); the
        /// connection stays usable.
        case cancelled
        /// The bytes received cannot be split into messages by the framing in use
        /// (async API); the connection is closed.
        case badFraming
        /// The TLS handshake or a record failed: the peer's certificate was refused (or
        /// ours was), the peer spoke something other than TLS, or broke the protocol.
        /// `operation` says what, in OpenSSL's words; the connection is closed.
        case tls
        /// The event loop's transport could not go on (an io_uring ring the kernel refused
        /// after all, say): the loop closed everything registered with this error.
        case transportFailed
        /// Any other system error: see `code`.
        case system
    }

    /// The kind of failure.
    public let kind: Kind
    /// The `errno` value, or 0 when the failure did not come from the kernel.
    public let code: Int32
    /// The operation that failed, e.g. `"connect"`, for messages.
    public let operation: String

    /// An error for `operation` failing with the kernel's `code`; `kind` follows from it.
    public init(code: Int32, operation: String) {
        self.kind = Self.classify(code)
        self.code = code
        self.operation = operation
    }

    /// An error of `kind` whatever `code` says (for example `.transportFailed` with the
    /// `errno` the kernel gave the ring).
    public init(_ kind: Kind, code: Int32, operation: String) {
        self.kind = kind
        self.code = code
        self.operation = operation
    }

    /// An error Conduit raises itself (no `errno`), such as `.loopStopped`.
    public init(_ kind: Kind, operation: String) {
        self.kind = kind
        self.code = 0
        self.operation = operation
    }

    /// The kernel's text for the code (e.g. `Connection refused`), or Conduit's own.
    public var reason: String {
        if code != 0 { return String(cString: strerror(code)) }
        switch kind {
        case .loopStopped: return "the event loop has stopped"
        case .connectionLimit: return "the server's connection limit was reached"
        case .misuse: return "API contract broken"
        case .notConnected: return "not connected"
        case .cancelled: return "cancelled"
        case .badFraming: return "the bytes received are not a valid message"
        case .tls: return operation
        default: return "\(kind)"
        }
    }

    /// `operation: reason (errno N)`.
    public var description: String {
        if kind == .tls { return operation }  // OpenSSL's words are in it
        return code != 0 ? "\(operation): \(reason) (errno \(code))" : "\(operation): \(reason)"
    }

    static func classify(_ code: Int32) -> Kind {
        switch code {
        case ECONNREFUSED: return .connectionRefused
        case ECONNRESET, EPIPE: return .connectionReset
        case ETIMEDOUT: return .timedOut
        case EADDRINUSE: return .addressInUse
        case EADDRNOTAVAIL, ENETUNREACH, EHOSTUNREACH: return .addressUnavailable
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .outOfResources
        case ENOTCONN: return .notConnected
        default: return .system
        }
    }
}
