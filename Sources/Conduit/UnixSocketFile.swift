// CShim too: since cshim_ring.h brings <linux/io_uring.h> into the build, Swift finds
// SOCK_NONBLOCK and SOCK_CLOEXEC through the module that includes <sys/socket.h> first.
import CShim
import Glibc

/// The file that binding a Unix domain socket creates, and which outlives the socket:
/// a server that dies leaves it behind, and the next bind to the path fails with
/// `EADDRINUSE` although nobody listens. A server removes the file it created when it
/// stops, and clears a stale one (nobody listening) before binding; a live one it
/// refuses, as a TCP server refuses a busy port.
struct UnixSocketFile: Sendable {
    /// The path bound.
    let path: UnixSocketPath
    /// Device and inode of the file this server created: on stop it removes the file
    /// only if it is still that one, not one another server has put there since.
    private let device: UInt64
    private let inode: UInt64

    /// Binds `socket` to `path`, first removing a stale socket file there. Throws
    /// `.addressInUse` when a server is listening at `path`, and `EEXIST` when the path
    /// is something other than a socket (never removed).
    static func bind(_ socket: Socket, to path: UnixSocketPath) throws(SocketError) -> UnixSocketFile {
        let address = SocketAddress.unix(path)
        // Twice at most: a stale file cleared between the two tries, or one that vanished.
        for attempt in 0..<2 {
            let result = address.withSockAddr { Glibc.bind(socket.descriptor, $0, $1) }
            if result == 0 {
                guard let identity = identity(of: path.path) else {
                    throw SocketError(code: errno, operation: "stat \(address)")
                }
                return UnixSocketFile(path: path, device: identity.device, inode: identity.inode)
            }
            let code = errno
            guard code == EADDRINUSE, attempt == 0 else { throw SocketError(code: code, operation: "bind \(address)") }
            try removeIfStale(path)
        }
        throw SocketError(code: EADDRINUSE, operation: "bind \(address)")
    }

    /// Removes the file if it is still the one this server created.
    func remove() {
        guard let now = Self.identity(of: path.path), now.device == device, now.inode == inode else { return }
        unlink(path.path)
    }

    /// Removes the socket file at `path` if nothing listens on it. A connect is the
    /// probe, as it is the only test that cannot be fooled: a live server may show up in
    /// its log as one connection that closed at once.
    private static func removeIfStale(_ path: UnixSocketPath) throws(SocketError) {
        let address = SocketAddress.unix(path)
        guard let before = identity(of: path.path) else { return }  // gone meanwhile: bind again
        guard before.isSocket else {
            throw SocketError(code: EEXIST, operation: "bind \(address): the path exists and is not a socket")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw SocketError(code: errno, operation: "socket") }
        defer { close(probe) }
        let result = address.withSockAddr { connect(probe, $0, $1) }
        let code = result == 0 ? 0 : errno
        switch code {
        case 0, EAGAIN:
            // Connected, or a listener whose accept queue is full: alive either way.
            throw SocketError(code: EADDRINUSE, operation: "bind \(address): a server is listening there")
        case ECONNREFUSED:
            // Only the file we probed: another server may have replaced it meanwhile.
            if let now = identity(of: path.path), now.device == before.device, now.inode == before.inode {
                unlink(path.path)
            }
        case ENOENT:
            return
        default:
            throw SocketError(code: code, operation: "connect \(address) (checking for a stale socket file)")
        }
    }

    private static func identity(of path: String) -> (device: UInt64, inode: UInt64, isSocket: Bool)? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return (UInt64(status.st_dev), UInt64(status.st_ino), status.st_mode & S_IFMT == S_IFSOCK)
    }
}
