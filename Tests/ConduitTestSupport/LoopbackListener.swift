import Glibc

/// A plain blocking listening socket on 127.0.0.1 with a port the kernel chose, closed
/// when released: a peer or a placeholder that is not a Conduit server.
public final class LoopbackListener {
    /// The listening descriptor.
    public let fd: Int32
    /// The port the kernel chose.
    public let port: Int

    /// Binds 127.0.0.1:0 and listens with `backlog` (0 lets one connection wait, so a
    /// further connect stays in progress: its SYN is dropped). With `listening` false it
    /// only holds the port: every connect to it is refused.
    public init(backlog: Int32 = 16, listening: Bool = true) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length)
                return getsockname(fd, $0, &length)
            }
        }
        if listening { listen(fd, backlog) }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    /// True if a connection is waiting to be accepted.
    public var hasPendingConnection: Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) == 1
    }
}

/// A loopback port that was free a moment ago (bound, read, closed).
public func freeLoopbackPort() -> Int { LoopbackListener(backlog: 1).port }
