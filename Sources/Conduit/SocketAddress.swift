import Glibc

/// An IPv4 or IPv6 socket address (host and port), or the path of a Unix domain socket.
///
/// A value type over the kernel's `sockaddr_in`/`sockaddr_in6` (a Unix path is kept as
/// text and made into a `sockaddr_un` only for the call that needs it, so the value
/// stays small in every connection); it never allocates except when formatted as text.
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address.
    case v4(sockaddr_in)
    /// An IPv6 address.
    case v6(sockaddr_in6)
    /// A Unix domain socket (`AF_UNIX`, stream) at a path; make one with `unix(path:)`.
    case unix(UnixSocketPath)

    /// The Unix domain socket at `path`. Throws `AddressError` for a path that is
    /// empty, holds a NUL byte, or does not fit `sun_path` (more than
    /// `UnixSocketPath.maxBytes` bytes of UTF-8).
    public static func unix(path: String) throws(AddressError) -> SocketAddress {
        .unix(try UnixSocketPath(path))
    }

    /// Resolves `host` and `port` the way the tutorial's `bind`/`connect` do:
    /// a numeric address is used as is, a name goes through `getaddrinfo` and the first
    /// result wins, and an empty host means all IPv4 interfaces (`0.0.0.0`).
    ///
    /// Blocks while a name is looked up. Throws `AddressError` if nothing resolves.
    public static func resolve(host: String, port: Int) throws(AddressError) -> SocketAddress {
        guard (0...65535).contains(port) else { throw AddressError.badPort(port) }
        if host.isEmpty { return .v4(ipv4(address: in_addr(s_addr: INADDR_ANY), port: port)) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw AddressError.unresolved(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let found = from(current.pointee.ai_addr, port: port) { return found }
            entry = current.pointee.ai_next
        }
        throw AddressError.unresolved(host: host, reason: "no IPv4 or IPv6 address")
    }

    /// The IPv4 loopback address `127.0.0.1` with `port` (`0` asks for an ephemeral port).
    /// The port is a `UInt16`, so an impossible port cannot be asked for; from an `Int`
    /// use `resolve(host:port:)`, which throws for one out of range.
    public static func loopback(port: UInt16) -> SocketAddress {
        .v4(ipv4(address: in_addr(s_addr: UInt32(0x7f00_0001).bigEndian), port: Int(port)))
    }

    /// The IPv4 address `a.b.c.d` with `port`.
    public static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) -> SocketAddress {
        let port = Int(port)
        let value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
        return .v4(ipv4(address: in_addr(s_addr: value.bigEndian), port: port))
    }

    private static func ipv4(address: in_addr, port: Int) -> sockaddr_in {
        var storage = sockaddr_in()
        storage.sin_family = sa_family_t(AF_INET)
        storage.sin_port = in_port_t(UInt16(port)).bigEndian
        storage.sin_addr = address
        return storage
    }

    /// Reads an address the kernel returned (from `getaddrinfo`, `getsockname`, …),
    /// replacing its port with `port` when one is given. `length`, the size the kernel
    /// reported, tells a Unix socket's path from an unnamed one.
    static func from(_ raw: UnsafePointer<sockaddr>?, length: socklen_t? = nil, port: Int? = nil) -> SocketAddress? {
        guard let raw else { return nil }
        switch Int32(raw.pointee.sa_family) {
        case AF_INET:
            var value = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in.self)
            if let port { value.sin_port = in_port_t(UInt16(port)).bigEndian }
            return .v4(value)
        case AF_INET6:
            var value = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in6.self)
            if let port { value.sin6_port = in_port_t(UInt16(port)).bigEndian }
            return .v6(value)
        case AF_UNIX:
            // Copy no more than the kernel wrote: the rest of the storage is not ours.
            var value = sockaddr_un()
            let count = min(Int(length ?? socklen_t(MemoryLayout<sockaddr_un>.size)), MemoryLayout<sockaddr_un>.size)
            withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: count)) }
            return .unix(UnixSocketPath.from(value, length: socklen_t(count)))
        default:
            return nil
        }
    }

    /// `AF_INET`, `AF_INET6` or `AF_UNIX`.
    public var family: Int32 {
        switch self {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    /// True for an IPv4 or IPv6 address: a TCP endpoint, where TCP's options apply.
    public var isIP: Bool { family != AF_UNIX }

    /// The port number; 0 for a Unix domain socket, which has none.
    public var port: Int {
        switch self {
        case .v4(let a): return Int(UInt16(bigEndian: a.sin_port))
        case .v6(let a): return Int(UInt16(bigEndian: a.sin6_port))
        case .unix: return 0
        }
    }

    /// The numeric host, e.g. `127.0.0.1` or `::1`; for a Unix domain socket its path
    /// (empty when unnamed).
    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .v4(var a): _ = inet_ntop(AF_INET, &a.sin_addr, &text, socklen_t(text.count))
        case .v6(var a): _ = inet_ntop(AF_INET6, &a.sin6_addr, &text, socklen_t(text.count))
        case .unix(let path): return path.path
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The path of a Unix domain socket (nil for IP addresses and unnamed sockets).
    public var unixPath: String? {
        guard case .unix(let path) = self, !path.isUnnamed else { return nil }
        return path.path
    }

    /// `host:port`, with IPv6 hosts in brackets (`[::1]:65432`); `unix:PATH` for a Unix
    /// domain socket (`unix:(unnamed)` for a peer without a path).
    public var description: String {
        switch self {
        case .v4: return "\(host):\(port)"
        case .v6: return "[\(host)]:\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }

    /// Calls `body` with a pointer to the kernel form of this address and its length.
    package func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        switch self {
        case .v4(var a):
            return try withUnsafePointer(to: &a) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(var a):
            return try withUnsafePointer(to: &a) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        case .unix(let path):
            var a = path.sockaddr
            return try withUnsafePointer(to: &a) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, path.sockaddrLength) }
            }
        }
    }

    /// Equal when family, address and port are equal; Unix sockets when their paths are.
    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.family == rhs.family && lhs.host == rhs.host && lhs.port == rhs.port
    }

    /// Hashes family, host and port.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(host)
        hasher.combine(port)
    }
}

/// Why a host and port could not become a `SocketAddress`.
public enum AddressError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The port is outside 0…65535.
    case badPort(Int)
    /// Name resolution failed.
    case unresolved(host: String, reason: String)
    /// A Unix socket path longer than `sockaddr_un` holds (`limit` bytes).
    case unixPathTooLong(path: String, bytes: Int, limit: Int)
    /// A Unix socket path that cannot name a socket (empty, or with a NUL byte).
    case badUnixPath(path: String, reason: String)

    /// A path as a message shows it: its start and end when it is long (a 5,000-byte
    /// path filled the screen).
    private static func shown(_ path: String) -> String {
        guard path.count > 120 else { return path }
        return "\(path.prefix(60))…\(path.suffix(40))"
    }

    /// One line for the user.
    public var description: String {
        switch self {
        case .badPort(let port): return "port \(port) is outside 0-65535"
        case .unresolved(let host, let reason): return "cannot resolve host '\(host)': \(reason)"
        case .unixPathTooLong(let path, let bytes, let limit):
            return "Unix socket path is \(bytes) bytes, above the limit of \(limit) (sun_path): \(Self.shown(path))"
        case .badUnixPath(let path, let reason): return "bad Unix socket path '\(Self.shown(path))': \(reason)"
        }
    }
}
