import CShim
import Glibc

/// The socket and epoll calls of one backend, each returning what the kernel said:
/// a non-negative result or `-errno`. `IOResult.interpret` turns that into policy.
///
/// A `switch` on the backend per call costs a predictable branch; it keeps the event
/// loop a single, non-generic type that both backends share.
package struct SystemCalls: Sendable {
    package let backend: IOBackend

    /// The calls of `backend`.
    package init(backend: IOBackend) { self.backend = backend }

    @inline(__always)
    private static func result(_ value: Int) -> Int { value < 0 ? -Int(errno) : value }

    @inline(__always)
    private static func result(_ value: Int32) -> Int { value < 0 ? -Int(errno) : Int(value) }

    func epollCreate() -> Int {
        switch backend {
        case .shim, .uring: return Int(cshim_epoll_create())
        case .swift: return Self.result(epoll_create1(Int32(EPOLL_CLOEXEC)))
        }
    }

    func epollControl(_ epfd: Int32, _ op: Int32, _ fd: Int32, events: UInt32, token: UInt64) -> Int {
        switch backend {
        case .shim, .uring:
            return Int(cshim_epoll_ctl(epfd, op, fd, events, token))
        case .swift:
            var event = epoll_event()
            event.events = events
            event.data.u64 = token
            return Self.result(epoll_ctl(epfd, op, fd, &event))
        }
    }

    func epollWait(_ epfd: Int32, _ events: EpollEvents, timeoutMilliseconds: Int32) -> Int {
        switch backend {
        case .shim, .uring:
            return Int(cshim_epoll_wait(epfd, events.base, Int32(events.capacity), timeoutMilliseconds))
        case .swift:
            return Self.result(epoll_wait(epfd, events.base, Int32(events.capacity), timeoutMilliseconds))
        }
    }

    @inline(__always)
    func receive(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        switch backend {
        case .shim, .uring: return cshim_recv(fd, buffer, count)
        case .swift: return Self.result(recv(fd, buffer, count, 0))
        }
    }

    @inline(__always)
    package func send(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        switch backend {
        case .shim, .uring: return cshim_send(fd, buffer, count)
        case .swift: return Self.result(Glibc.send(fd, buffer, count, Int32(MSG_NOSIGNAL)))
        }
    }

    func writev(_ fd: Int32, _ vectors: UnsafePointer<iovec>, _ count: Int32) -> Int {
        switch backend {
        case .shim, .uring:
            return cshim_writev(fd, vectors, count)
        case .swift:
            var message = msghdr()
            message.msg_iov = UnsafeMutablePointer(mutating: vectors)
            message.msg_iovlen = Int(count)
            return Self.result(sendmsg(fd, &message, Int32(MSG_NOSIGNAL)))
        }
    }

    func acceptBatch(_ listenFD: Int32, into fds: UnsafeMutablePointer<Int32>, max: Int32) -> Int {
        switch backend {
        case .shim, .uring:
            return Int(cshim_accept_batch(listenFD, fds, max))
        case .swift:
            var count: Int32 = 0
            while count < max {
                let fd = cshim_accept4(listenFD)
                if fd < 0 {
                    if count > 0 || fd == -EAGAIN || fd == -EWOULDBLOCK { break }
                    return Int(fd)
                }
                fds[Int(count)] = fd
                count += 1
            }
            return Int(count)
        }
    }

    package func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int {
        switch backend {
        case .shim, .uring: return Int(cshim_connect(fd, address, length))
        case .swift: return Self.result(Glibc.connect(fd, address, length))
        }
    }

    /// A non-blocking stream socket: TCP for an IP family, a Unix stream socket for
    /// `AF_UNIX` (protocol 0 picks the family's own).
    func streamSocket(family: Int32) -> Int {
        switch backend {
        case .shim, .uring:
            return Int(cshim_stream_socket(family))
        case .swift:
            let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
            return Self.result(socket(family, type, 0))
        }
    }

    package func pendingError(_ fd: Int32) -> Int {
        switch backend {
        case .shim, .uring:
            return Int(cshim_socket_error(fd))
        case .swift:
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) < 0 { return -Int(errno) }
            return Int(value)
        }
    }

    func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Int {
        switch backend {
        case .shim, .uring:
            return Int(cshim_setsockopt_int(fd, level, name, value))
        case .swift:
            var value = value
            return Self.result(setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)))
        }
    }
}
