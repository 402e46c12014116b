import Glibc

/// The file-system path of a Unix domain socket, checked to fit the kernel's
/// `sockaddr_un` (108 bytes of `sun_path`, with the terminating NUL: at most 107 bytes
/// of UTF-8), so that a bind or connect never sees a silently shortened path.
///
/// Empty only for an unnamed socket (a client that never bound a path), which the
/// kernel reports as a peer; such a path cannot be listened on or connected to.
/// Linux's abstract names (a leading NUL byte) are not supported and read as unnamed.
public struct UnixSocketPath: Sendable, Hashable, CustomStringConvertible {
    /// The path as given, e.g. `/run/conduit.sock`; empty for an unnamed socket.
    public let path: String

    /// The most bytes of UTF-8 a path may have: `sun_path` less its terminating NUL.
    public static let maxBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Checks `path`: not empty, no NUL byte, at most `maxBytes` bytes of UTF-8.
    public init(_ path: String) throws(AddressError) {
        let bytes = path.utf8.count
        guard bytes > 0 else { throw AddressError.badUnixPath(path: path, reason: "it is empty") }
        guard !path.utf8.contains(0) else {
            throw AddressError.badUnixPath(path: path, reason: "it contains a NUL byte")
        }
        guard bytes <= Self.maxBytes else {
            throw AddressError.unixPathTooLong(path: path, bytes: bytes, limit: Self.maxBytes)
        }
        self.path = path
    }

    private init(unchecked path: String) { self.path = path }

    /// An unnamed socket: what a client that connects without binding a path looks
    /// like from the server's side.
    public static let unnamed = UnixSocketPath(unchecked: "")

    /// True for an unnamed socket (no path).
    public var isUnnamed: Bool { path.isEmpty }

    /// The path, or `(unnamed)`.
    public var description: String { isUnnamed ? "(unnamed)" : path }

    /// Reads the path the kernel returned in `address` of `length` bytes; an unnamed or
    /// abstract socket gives `unnamed`.
    static func from(_ address: sockaddr_un, length: socklen_t) -> UnixSocketPath {
        let pathOffset = MemoryLayout<sa_family_t>.size
        let room = Int(length) - pathOffset
        guard room > 0 else { return .unnamed }
        var address = address
        return withUnsafeBytes(of: &address.sun_path) { raw in
            let bytes = raw.prefix(min(room, raw.count))
            guard let first = bytes.first, first != 0 else { return .unnamed }
            return UnixSocketPath(unchecked: String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))
        }
    }

    /// The kernel form: family `AF_UNIX`, the path NUL-terminated.
    var sockaddr: sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        return address
    }

    /// The length to pass with `sockaddr`: the family, the path and its NUL.
    var sockaddrLength: socklen_t { socklen_t(MemoryLayout<sa_family_t>.size + path.utf8.count + 1) }
}
