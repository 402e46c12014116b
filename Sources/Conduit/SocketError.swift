import Glibc

/// A failed socket operation: the `errno` the kernel gave and what we were doing.
public struct SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public let code: Int32
    /// The operation that failed, e.g. `"connect"`.
    public let operation: String

    /// Creates an error for `operation` failing with `code`.
    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// The kernel's text for the code, e.g. `Connection refused`.
    public var reason: String { String(cString: strerror(code)) }

    /// `operation: reason (errno N)`.
    public var description: String { "\(operation): \(reason) (errno \(code))" }

    /// True when the peer refused the connection (nothing listening).
    public var isConnectionRefused: Bool { code == ECONNREFUSED }
    /// True when the peer reset the connection.
    public var isConnectionReset: Bool { code == ECONNRESET || code == EPIPE }
}
