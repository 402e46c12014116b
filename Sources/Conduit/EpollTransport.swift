import CShim
import Glibc

/// The `shim` and `swift` backends' transport: one epoll set, level-triggered; a
/// connection's bytes move with `recv` and `send` on the loop's thread as soon as epoll
/// says they can (see `Transport`).
///
/// Reading: on readiness, up to 16 `recv`s into the loop's one receive buffer, each
/// handed to the connection, stopping at a short read (the kernel had no more), at the
/// connection's wish (paused, or its server's memory budget spent), or at `EAGAIN`.
/// Writing: a send is tried at once; only what the kernel does not take is left queued,
/// and epoll then watches for room.
final class EpollTransport: Transport {
    private let calls: SystemCalls
    private let epollFD: Int32
    private let events = EpollEvents(capacity: 512)
    /// Where a listener's batch of accepted descriptors lands.
    private var acceptedFDs = [Int32](repeating: -1, count: 64)

    private static let wakeToken = UInt64.max

    /// Makes the epoll set, watching the loop's wake-up eventfd.
    init(calls: SystemCalls, wakeFD: Int32) throws(SocketError) {
        self.calls = calls
        let epoll = calls.epollCreate()
        guard epoll >= 0 else { throw SocketError(code: Int32(-epoll), operation: "epoll_create1") }
        epollFD = Int32(epoll)
        let added = calls.epollControl(epollFD, EPOLL_CTL_ADD, wakeFD, events: EpollFlag.readable, token: Self.wakeToken)
        guard added == 0 else {
            Glibc.close(epollFD)
            throw SocketError(code: Int32(-added), operation: "epoll_ctl(ADD eventfd)")
        }
    }

    deinit { Glibc.close(epollFD) }

    func prepareToRun(on loop: EventLoop) throws(SocketError) {}

    func turn(on loop: EventLoop, timeoutNanoseconds: Int64) throws(SocketError) {
        // Rounded up, so the loop never wakes just before a deadline and spins.
        let milliseconds = timeoutNanoseconds < 0 ? -1 : Int32(clamping: (timeoutNanoseconds + 999_999) / 1_000_000)
        let ready = calls.epollWait(epollFD, events, timeoutMilliseconds: milliseconds)
        loop.now = Monotonic.now()
        if ready < 0 {
            if Int32(-ready) == EINTR { return }
            throw SocketError(.transportFailed, code: Int32(-ready), operation: "epoll_wait")
        }
        loop.counters.wakeUps += 1
        loop.counters.events += ready
        for index in 0..<ready {
            let token = events.token(index)
            if token == Self.wakeToken {
                loop.wokenUp()
                continue
            }
            guard let (object, isListener) = loop.registry.object(for: token) else { continue }
            // Unretained: the registry keeps what it names alive until the turn is over.
            if isListener {
                Unmanaged<Listener>.fromOpaque(object)._withUnsafeGuaranteedRef { acceptReady($0) }
            } else {
                let flags = events.flags(index)
                Unmanaged<Connection>.fromOpaque(object)._withUnsafeGuaranteedRef { handleReadiness($0, flags) }
            }
        }
    }

    func loopStopped(on loop: EventLoop) {}

    func finish(on loop: EventLoop) {}

    // MARK: connections

    func register(_ connection: Connection) throws(SocketError) {
        let descriptor = connection.descriptor
        let token = connection.loop.registry.add(.connection(connection), descriptor: descriptor)
        let wanted = connection.state.interest
        let raw = calls.epollControl(epollFD, EPOLL_CTL_ADD, descriptor, events: wanted, token: token)
        guard raw == 0 else {
            connection.loop.registry.remove(descriptor: descriptor)
            throw SocketError(code: Int32(-raw), operation: "epoll_ctl(ADD)")
        }
        connection.io.token = token
        connection.io.watching = wanted
    }

    func update(_ connection: Connection) {
        let wanted = connection.state.interest
        guard wanted != connection.io.watching, connection.io.isRegistered, connection.state.phase != .closed else { return }
        let raw = calls.epollControl(epollFD, EPOLL_CTL_MOD, connection.descriptor, events: wanted, token: connection.io.token)
        guard raw == 0 else {
            connection.transportFailed(SocketError(code: Int32(-raw), operation: "epoll_ctl(MOD)"))
            return
        }
        connection.io.watching = wanted
    }

    @inline(__always)
    func send(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int? {
        var offset = 0
        while offset < bytes.count {
            let outcome = IOResult.retryingInterrupts {
                calls.send(connection.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
            connection.loop.counters.sendCalls += 1
            switch outcome {
            case .processed(let count):
                if count < bytes.count - offset { connection.loop.counters.partialSends += 1 }
                offset += count
                connection.loop.counters.bytesSent += count
            case .wouldBlock:
                connection.loop.counters.sendsWouldBlock += 1
                return offset
            case .failed(let code):
                connection.transportFailed(SocketError(code: code, operation: "send"))
                return nil
            }
        }
        return offset
    }

    func send(_ connection: Connection, _ header: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int? {
        var vectors = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
        )
        let outcome = IOResult.retryingInterrupts {
            withUnsafePointer(to: &vectors) {
                $0.withMemoryRebound(to: iovec.self, capacity: 2) { calls.writev(connection.descriptor, $0, 2) }
            }
        }
        connection.loop.counters.sendCalls += 1
        switch outcome {
        case .processed(let count):
            connection.loop.counters.bytesSent += count
            if count < header.count + body.count { connection.loop.counters.partialSends += 1 }
            return count
        case .wouldBlock:
            connection.loop.counters.sendsWouldBlock += 1
            return 0
        case .failed(let code):
            connection.transportFailed(SocketError(code: code, operation: "writev"))
            return nil
        }
    }

    func close(_ connection: Connection) {
        guard connection.io.isRegistered else { return }
        // Closing the descriptor takes it out of the epoll set.
        connection.loop.registry.remove(descriptor: connection.descriptor)
        connection.io.watching = 0
    }

    /// Hands a connection what epoll says it may do now.
    private func handleReadiness(_ connection: Connection, _ flags: UInt32) {
        switch connection.state.phase {
        case .connecting:
            // Only writability or an error answers a connect; anything else is not ours.
            if flags & (EpollFlag.writable | EpollFlag.error | EpollFlag.hangUp) != 0 { connection.connectFinished() }
            return
        case .draining:
            if flags & (EpollFlag.readable | EpollFlag.hangUp | EpollFlag.error) != 0 { read(connection) }
            return
        case .open, .closing, .closed:
            break
        }
        if flags & EpollFlag.writable != 0 { connection.becameWritable() }
        if connection.state.reachedEnd {
            // Level-triggered epoll repeats a hang-up forever: after end of stream it
            // means the peer is gone both ways, so nothing queued can be delivered.
            if flags & (EpollFlag.hangUp | EpollFlag.error) != 0 { connection.peerIsGone() }
            return
        }
        if flags & (EpollFlag.readable | EpollFlag.hangUp | EpollFlag.error) != 0 { read(connection) }
    }

    /// Reads until the kernel has nothing more (a short read says so without an
    /// extra `EAGAIN` call), at most 16 times so one busy peer cannot starve the rest.
    private func read(_ connection: Connection) {
        let buffer = connection.loop.receiveBuffer
        for _ in 0..<16 {
            guard connection.mayReceive() else { return }
            let outcome = IOResult.retryingInterrupts {
                calls.receive(connection.descriptor, buffer.baseAddress!, buffer.count)
            }
            connection.loop.counters.receiveCalls += 1
            switch outcome {
            case .processed(0):
                connection.receivedEnd()
                return
            case .processed(let count):
                connection.loop.counters.bytesReceived += count
                connection.received(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
                if count < buffer.count { return }
            case .wouldBlock:
                connection.loop.counters.receivesWouldBlock += 1
                return
            case .failed(let code):
                connection.receiveFailed(code: code)
                return
            }
        }
    }

    // MARK: listeners

    func register(_ listener: Listener) throws(SocketError) {
        let descriptor = listener.descriptor
        let token = listener.loop.registry.add(.listener(listener), descriptor: descriptor)
        let raw = calls.epollControl(epollFD, EPOLL_CTL_ADD, descriptor, events: EpollFlag.readable, token: token)
        guard raw == 0 else {
            listener.loop.registry.remove(descriptor: descriptor)
            throw SocketError(code: Int32(-raw), operation: "epoll_ctl(ADD)")
        }
        listener.io.token = token
        listener.io.watching = EpollFlag.readable
    }

    func setAccepting(_ listener: Listener, _ accepting: Bool) {
        let wanted = accepting ? EpollFlag.readable : 0
        guard listener.io.isRegistered, wanted != listener.io.watching else { return }
        let raw = calls.epollControl(epollFD, EPOLL_CTL_MOD, listener.descriptor, events: wanted, token: listener.io.token)
        guard raw == 0 else {
            listener.transportFailed(SocketError(code: Int32(-raw), operation: "epoll_ctl(MOD)"))
            return
        }
        listener.io.watching = wanted
    }

    func close(_ listener: Listener) {
        guard listener.io.isRegistered else { return }
        listener.loop.registry.remove(descriptor: listener.descriptor)
        listener.io.watching = 0
    }

    /// Accepts the batch the kernel has ready (the epoll set says the socket is readable).
    private func acceptReady(_ listener: Listener) {
        acceptBatch(listener, calls: calls, into: &acceptedFDs)
    }
}

/// Accepts up to `fds.count` pending connections of a listener that accepts on
/// readiness and hands each to it; an error goes to the listener.
func acceptBatch(_ listener: Listener, calls: SystemCalls, into fds: inout [Int32]) {
    guard listener.isAccepting else { return }
    let outcome = fds.withUnsafeMutableBufferPointer { fds in
        IOResult.retryingInterrupts { calls.acceptBatch(listener.descriptor, into: fds.baseAddress!, max: Int32(fds.count)) }
    }
    switch outcome {
    case .processed(let count):
        for index in 0..<count { listener.accepted(fds[index]) }
    case .wouldBlock:
        return
    case .failed(let code):
        listener.acceptFailed(code: code)
    }
}
