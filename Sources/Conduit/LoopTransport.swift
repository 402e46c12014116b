/// A loop's transport as what it is, one of the two `Transport`s: every call is a switch
/// and a direct (often inlined) call. Through a protocol existential each call retained
/// and released the transport around an indirect call (about 40 instructions, on every
/// send of every message); the switch is on a tag the branch predictor always gets
/// right, since a loop's transport never changes.
struct LoopTransport {
    enum Kind {
        case epoll(EpollTransport)
        case ring(RingTransport)
    }

    let kind: Kind

    /// The ring transport, if this is one.
    var ring: RingTransport? {
        if case .ring(let transport) = kind { return transport }
        return nil
    }

    @inline(__always)
    func prepareToRun(on loop: EventLoop) throws(SocketError) {
        switch kind {
        case .epoll(let transport): try transport.prepareToRun(on: loop)
        case .ring(let transport): try transport.prepareToRun(on: loop)
        }
    }

    @inline(__always)
    func turn(on loop: EventLoop, timeoutNanoseconds: Int64) throws(SocketError) {
        switch kind {
        case .epoll(let transport): try transport.turn(on: loop, timeoutNanoseconds: timeoutNanoseconds)
        case .ring(let transport): try transport.turn(on: loop, timeoutNanoseconds: timeoutNanoseconds)
        }
    }

    func loopStopped(on loop: EventLoop) {
        switch kind {
        case .epoll(let transport): transport.loopStopped(on: loop)
        case .ring(let transport): transport.loopStopped(on: loop)
        }
    }

    func finish(on loop: EventLoop) {
        switch kind {
        case .epoll(let transport): transport.finish(on: loop)
        case .ring(let transport): transport.finish(on: loop)
        }
    }

    func register(_ connection: Connection) throws(SocketError) {
        switch kind {
        case .epoll(let transport): try transport.register(connection)
        case .ring(let transport): try transport.register(connection)
        }
    }

    @inline(__always)
    func update(_ connection: Connection) {
        switch kind {
        case .epoll(let transport): transport.update(connection)
        case .ring(let transport): transport.update(connection)
        }
    }

    @inline(__always)
    func send(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int? {
        switch kind {
        case .epoll(let transport): transport.send(connection, bytes)
        case .ring(let transport): transport.send(connection, bytes)
        }
    }

    @inline(__always)
    func send(_ connection: Connection, _ header: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int? {
        switch kind {
        case .epoll(let transport): transport.send(connection, header, body)
        case .ring(let transport): transport.send(connection, header, body)
        }
    }

    func close(_ connection: Connection) {
        switch kind {
        case .epoll(let transport): transport.close(connection)
        case .ring(let transport): transport.close(connection)
        }
    }

    func register(_ listener: Listener) throws(SocketError) {
        switch kind {
        case .epoll(let transport): try transport.register(listener)
        case .ring(let transport): try transport.register(listener)
        }
    }

    func setAccepting(_ listener: Listener, _ accepting: Bool) {
        switch kind {
        case .epoll(let transport): transport.setAccepting(listener, accepting)
        case .ring(let transport): transport.setAccepting(listener, accepting)
        }
    }

    func close(_ listener: Listener) {
        switch kind {
        case .epoll(let transport): transport.close(listener)
        case .ring(let transport): transport.close(listener)
        }
    }
}
