import Glibc

/// Checks and prepares a descriptor that someone else bound and made listen (systemd's
/// socket activation, a supervisor, a test) before a `Server` serves it.
enum AdoptedListener {
    /// Makes `descriptor` ours to serve: it must be a listening stream socket of an IP
    /// family or `AF_UNIX`. Sets it non-blocking (the loops never wait in `accept`) and
    /// close-on-exec (it was inherited across an exec; our own children must not keep
    /// it open). Returns the address it listens on.
    static func prepare(_ descriptor: Int32) throws(SocketError) -> SocketAddress {
        let what = "listening descriptor \(descriptor)"
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else {
            throw SocketError(code: errno, operation: what)
        }
        guard type == Int32(SOCK_STREAM.rawValue) else {
            throw SocketError(code: ESOCKTNOSUPPORT, operation: "\(what): not a stream socket")
        }
        var listening: Int32 = 0
        length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 else {
            throw SocketError(code: errno, operation: what)
        }
        guard listening != 0 else {
            throw SocketError(code: EINVAL, operation: "\(what): not listening (call listen() before handing it over)")
        }
        guard let address = Socket.localAddress(of: descriptor) else {
            throw SocketError(code: EAFNOSUPPORT, operation: "\(what): not an IPv4, IPv6 or Unix socket")
        }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0,
            fcntl(descriptor, F_SETFD, FD_CLOEXEC) == 0
        else {
            throw SocketError(code: errno, operation: "fcntl \(what)")
        }
        return address
    }
}
