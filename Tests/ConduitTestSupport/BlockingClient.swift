import Glibc

/// A plain blocking TCP client for tests: it sends exactly the bytes it is given and
/// reads what comes back, with a receive timeout so a test can never hang.
///
/// The timeout is a guard against hangs, not a measure of speed: it is generous by
/// default because sanitizers on a busy 2-core machine can stall a server for seconds.
/// A test that asserts how soon something happens passes its own, and says why.
public final class BlockingClient {
    public let fd: Int32

    /// Connects to 127.0.0.1:`port`. `socketBuffers`, when given, sets `SO_RCVBUF` and
    /// `SO_SNDBUF` before connecting (so the advertised window is small from the start).
    public init(port: Int, timeoutSeconds: Int = HangGuard.seconds, socketBuffers: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = socketBuffers {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw ClientError.connect(errno) }
    }

    /// Connects to the Unix domain socket at `path`.
    public init(unixPath path: String, timeoutSeconds: Int = HangGuard.seconds) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = unixSocketAddress(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw ClientError.connect(code)
        }
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Ends our sending side (the peer sees end of stream) but keeps reading.
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until `count` bytes have arrived, end of stream, or the timeout.
    public func receive(count: Int) -> [UInt8] { receiveExactly(fd, count) }

    /// Reads until the peer closes (or the timeout); returns the bytes and whether
    /// an orderly end of stream (or reset) was seen.
    public func receiveUntilClosed() -> (bytes: [UInt8], closed: Bool) {
        let (bytes, ending) = receiveToEnd()
        return (bytes, ending == 0 || ending == ECONNRESET)
    }

    /// Reads until the connection ends; returns the bytes and how it ended: 0 for an
    /// orderly end of stream, otherwise the errno (ECONNRESET for a reset, EAGAIN for
    /// the receive timeout).
    public func receiveToEnd() -> (bytes: [UInt8], ending: Int32) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = receiveRetryingInterrupts(fd, &buffer, buffer.count)
            if n == 0 { return (out, 0) }
            if n < 0 { return (out, errno) }
            out += buffer[..<n]
        }
    }

    public enum ClientError: Error { case connect(Int32) }
}

/// `recv` on a blocking socket, again after `EINTR`. A thread that once ran an io_uring
/// loop can get one `EINTR` later, when the kernel tears that ring down (see DESIGN.md,
/// "The io_uring backend"); with a receive timeout set, the kernel does not restart the
/// call itself.
public func receiveRetryingInterrupts(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    while true {
        let n = recv(fd, buffer, count, 0)
        if n < 0 && errno == EINTR { continue }
        return n
    }
}

/// Reads `count` bytes from a blocking socket (fewer if it ends or times out).
@Sendable public func receiveExactly(_ fd: Int32, _ count: Int) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while out.count < count {
        let n = receiveRetryingInterrupts(fd, &buffer, min(buffer.count, count - out.count))
        if n <= 0 { break }
        out += buffer[..<n]
    }
    return out
}
