import Foundation
import Glibc

/// A fresh directory under the system's temporary directory, removed with everything
/// in it by `remove()`: each Unix socket test binds its paths here, so tests running
/// at once never share one and nothing is left behind.
public final class TemporaryDirectory: Sendable {
    /// The directory's path (short: a socket path must fit in 107 bytes).
    public let path: String

    public init() {
        var template = Array("/tmp/conduit-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: errno \(errno)")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Removes the directory and what it holds.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The kernel form of a Unix socket path (which the caller keeps short enough).
public func unixSocketAddress(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
    }
    return address
}

/// A blocking Unix stream socket bound to `path`; listening unless `listening` is false.
/// The caller owns the descriptor (for tests that hand it over, or leave a stale file).
public func makeUnixSocket(at path: String, listening: Bool = true, backlog: Int32 = 16) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = unixSocketAddress(path)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    precondition(bound == 0, "bind \(path): errno \(errno)")
    if listening { precondition(listen(fd, backlog) == 0, "listen: errno \(errno)") }
    return fd
}

/// A blocking TCP socket listening on 127.0.0.1 at a port the kernel chose; the caller
/// owns the descriptor.
public func makeLoopbackListeningSocket() -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    precondition(ok && listen(fd, 16) == 0, "loopback listener: errno \(errno)")
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// True if something exists at `path` (a socket file included).
public func fileExists(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0
}
