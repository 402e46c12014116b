/// A loop's transport as what it is, one of the two `Transport`s: every call is a test
/// and a direct (often inlined) call. Through a protocol existential each call retained
/// and released the transport around an indirect call (about 40 instructions, on every
/// send of every message); the test is one the branch predictor always gets right,
/// since a loop's transport never changes.
///
/// The two are held as plain optional references, not as an enum with a payload each:
/// such an enum keeps its case in the pointer's top bit, and LeakSanitizer, which looks
/// for pointers, then took the ring transport (and its ring) for leaked.
struct LoopTransport {
    /// The epoll transport, if this is one.
    private let epoll: EpollTransport?
    /// The ring transport, if this is one.
    let ring: RingTransport?

    init(_ transport: EpollTransport) {
        epoll = transport
        ring = nil
    }

    init(_ transport: RingTransport) {
        epoll = nil
        ring = transport
    }

    /// The epoll transport, when `ring` is nil (one of the two is always set).
    @inline(__always)
    private var epollTransport: EpollTransport { epoll.unsafelyUnwrapped }

    @inline(__always)
    func prepareToRun(on loop: EventLoop) throws(SocketError) {
        if let ring { try ring.prepareToRun(on: loop) } else { try epollTransport.prepareToRun(on: loop) }
    }

    @inline(__always)
    func turn(on loop: EventLoop, timeoutNanoseconds: Int64) throws(SocketError) {
        if let ring {
            try ring.turn(on: loop, timeoutNanoseconds: timeoutNanoseconds)
        } else {
            try epollTransport.turn(on: loop, timeoutNanoseconds: timeoutNanoseconds)
        }
    }

    func loopStopped(on loop: EventLoop) {
        if let ring { ring.loopStopped(on: loop) } else { epollTransport.loopStopped(on: loop) }
    }

    func finish(on loop: EventLoop) {
        if let ring { ring.finish(on: loop) } else { epollTransport.finish(on: loop) }
    }

    func register(_ connection: Connection) throws(SocketError) {
        if let ring { try ring.register(connection) } else { try epollTransport.register(connection) }
    }

    @inline(__always)
    func update(_ connection: Connection) {
        if let ring { ring.update(connection) } else { epollTransport.update(connection) }
    }

    @inline(__always)
    func send(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int? {
        if let ring { ring.send(connection, bytes) } else { epollTransport.send(connection, bytes) }
    }

    @inline(__always)
    func send(_ connection: Connection, _ header: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int? {
        if let ring { ring.send(connection, header, body) } else { epollTransport.send(connection, header, body) }
    }

    func close(_ connection: Connection) {
        if let ring { ring.close(connection) } else { epollTransport.close(connection) }
    }

    func register(_ listener: Listener) throws(SocketError) {
        if let ring { try ring.register(listener) } else { try epollTransport.register(listener) }
    }

    func setAccepting(_ listener: Listener, _ accepting: Bool) {
        if let ring { ring.setAccepting(listener, accepting) } else { epollTransport.setAccepting(listener, accepting) }
    }

    func close(_ listener: Listener) {
        if let ring { ring.close(listener) } else { epollTransport.close(listener) }
    }
}
