import CShim
import Glibc

/// A non-blocking stream socket descriptor (TCP, or a Unix domain socket) that is
/// closed exactly once.
///
/// Not thread-safe: a socket belongs to the loop (or thread) that uses it.
package final class Socket {
    /// The descriptor, or -1 once closed.
    // `@exclusivity(unchecked)`: read for every send and receive, where a run-time
    // exclusivity check would cost about 80 instructions; only `close` writes it.
    @exclusivity(unchecked) package private(set) var descriptor: Int32
    package let calls: SystemCalls

    package init(descriptor: Int32, calls: SystemCalls) {
        self.descriptor = descriptor
        self.calls = calls
    }

    /// Opens a non-blocking, close-on-exec stream socket for `family`: TCP for
    /// `AF_INET`/`AF_INET6`, a Unix stream socket for `AF_UNIX`.
    package static func open(family: Int32, calls: SystemCalls) throws(SocketError) -> Socket {
        let raw = calls.streamSocket(family: family)
        guard raw >= 0 else { throw SocketError(code: Int32(-raw), operation: "socket") }
        return Socket(descriptor: Int32(raw), calls: calls)
    }

    deinit { close() }

    /// True until `close()` runs.
    package var isOpen: Bool { descriptor >= 0 }

    /// Closes the descriptor; later calls do nothing.
    package func close() {
        guard descriptor >= 0 else { return }
        _ = Glibc.close(descriptor)
        descriptor = -1
    }

    /// Gives up ownership of the descriptor without closing it (someone else will).
    func release() -> Int32 {
        let released = descriptor
        descriptor = -1
        return released
    }

    /// Sets an integer socket option.
    func setOption(_ level: Int32, _ name: Int32, _ value: Int32, _ label: StaticString) throws(SocketError) {
        let raw = calls.setOption(descriptor, level, name, value)
        if raw < 0 { throw SocketError(code: Int32(-raw), operation: "setsockopt(\(label))") }
    }

    /// Disables Nagle's algorithm, so small request/response messages go out at once.
    /// TCP only: a Unix domain socket has no Nagle to disable (and refuses the option).
    func setNoDelay() throws(SocketError) { try setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1, "TCP_NODELAY") }

    /// The local address the kernel bound.
    package func localAddress() -> SocketAddress? { Self.name(of: descriptor, getsockname) }

    /// The local address of any socket descriptor (one not wrapped in a `Socket` too).
    static func localAddress(of descriptor: Int32) -> SocketAddress? { name(of: descriptor, getsockname) }

    /// The connected peer's address.
    package func peerAddress() -> SocketAddress? { Self.name(of: descriptor, getpeername) }

    private static func name(
        of descriptor: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                call(descriptor, raw, &length) == 0 ? SocketAddress.from(raw, length: length) : nil
            }
        }
    }

    /// The process ID of the peer of a Unix domain socket (`SO_PEERCRED`: the process
    /// that connected, or that listens), or nil for TCP and on failure.
    package func peerProcessID() -> Int32? {
        let pid = cshim_peer_pid(descriptor)
        return pid > 0 ? pid : nil
    }

    /// Sets the kernel's receive and send buffer sizes (`SO_RCVBUF`, `SO_SNDBUF`) where
    /// given; the kernel doubles the value and caps it at `net.core.rmem_max`/`wmem_max`.
    func setBufferSizes(receive: Int?, send: Int?) throws(SocketError) {
        if let receive { try setOption(SOL_SOCKET, SO_RCVBUF, Int32(clamping: receive), "SO_RCVBUF") }
        if let send { try setOption(SOL_SOCKET, SO_SNDBUF, Int32(clamping: send), "SO_SNDBUF") }
    }

    /// The kernel's receive and send queue sizes in bytes (`SIOCINQ`, `SIOCOUTQ`):
    /// the Recv-Q and Send-Q columns of netstat for this socket. Always through the shim,
    /// for both backends: `ioctl` is variadic, and Swift cannot call variadic C functions.
    package func queueSizes() -> (receive: Int, send: Int) {
        (Int(max(0, cshim_inq(descriptor))), Int(max(0, cshim_outq(descriptor))))
    }
}
