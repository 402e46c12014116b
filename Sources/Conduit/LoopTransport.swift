/// A loop's transport as what it is, one of the two `Transport`s: every call is a test
/// and a direct (often inlined) call. Through a protocol existential each call retained
/// and released the transport around an indirect call (about 40 instructions, on every
/// send of every message); the test is one the branch predictor always gets right,
/// since a loop's transport never changes.
///
/// The two are held as plain optional references, not as an enum with a payload each:
/// such an enum keeps its case in the pointer's top bit, and LeakSanitizer, which looks
/// for pointers, then took the ring transport (and its ring) for leaked.
///
/// It holds the transport unowned (`Unmanaged`), so that it is a trivial value: the loop
/// keeps the transport alive (`EventLoop.transportOwner`), and every connection holds
/// its loop. Holding a strong reference, this struct was copied out of the loop with a
/// retain and a release on every send (about 40 instructions per message).
struct LoopTransport {
    private let epollUnowned: Unmanaged<EpollTransport>?
    private let ringUnowned: Unmanaged<RingTransport>?

    init(_ transport: EpollTransport) {
        epollUnowned = Unmanaged.passUnretained(transport)
        ringUnowned = nil
    }

    init(_ transport: RingTransport) {
        epollUnowned = nil
        ringUnowned = Unmanaged.passUnretained(transport)
    }

    /// The ring transport, if this is one.
    var ring: RingTransport? { ringUnowned?.takeUnretainedValue() }

    /// The epoll transport, when `ring` is nil (one of the two is always set).
    private var epoll: EpollTransport { epollUnowned.unsafelyUnwrapped.takeUnretainedValue() }

    /// Runs `ringBody` with the ring transport or `epollBody` with the epoll transport,
    /// retaining neither: for the calls made per message.
    @inline(__always)
    private func with<Value>(ring ringBody: (RingTransport) -> Value, epoll epollBody: (EpollTransport) -> Value) -> Value {
        if let ringUnowned { return ringUnowned._withUnsafeGuaranteedRef(ringBody) }
        return epollUnowned.unsafelyUnwrapped._withUnsafeGuaranteedRef(epollBody)
    }

    // The throwing calls come once per loop turn or per connection; they take the
    // transport the ordinary way.
    func prepareToRun(on loop: EventLoop) throws(SocketError) {
        if let ring { try ring.prepareToRun(on: loop) } else { try epoll.prepareToRun(on: loop) }
    }

    @inline(__always)
    func turn(on loop: EventLoop, timeoutNanoseconds: Int64) throws(SocketError) {
        if let ring {
            try ring.turn(on: loop, timeoutNanoseconds: timeoutNanoseconds)
        } else {
            try epoll.turn(on: loop, timeoutNanoseconds: timeoutNanoseconds)
        }
    }

    func loopStopped(on loop: EventLoop) {
        with(ring: { $0.loopStopped(on: loop) }, epoll: { $0.loopStopped(on: loop) })
    }

    func finish(on loop: EventLoop) {
        with(ring: { $0.finish(on: loop) }, epoll: { $0.finish(on: loop) })
    }

    func register(_ connection: Connection) throws(SocketError) {
        if let ring { try ring.register(connection) } else { try epoll.register(connection) }
    }

    @inline(__always)
    func update(_ connection: Connection) {
        with(ring: { $0.update(connection) }, epoll: { $0.update(connection) })
    }

    @inline(__always)
    func send(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int? {
        with(ring: { $0.send(connection, bytes) }, epoll: { $0.send(connection, bytes) })
    }

    @inline(__always)
    func send(_ connection: Connection, _ header: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int? {
        with(ring: { $0.send(connection, header, body) }, epoll: { $0.send(connection, header, body) })
    }

    func close(_ connection: Connection) {
        with(ring: { $0.close(connection) }, epoll: { $0.close(connection) })
    }

    func register(_ listener: Listener) throws(SocketError) {
        if let ring { try ring.register(listener) } else { try epoll.register(listener) }
    }

    func setAccepting(_ listener: Listener, _ accepting: Bool) {
        with(ring: { $0.setAccepting(listener, accepting) }, epoll: { $0.setAccepting(listener, accepting) })
    }

    func close(_ listener: Listener) {
        with(ring: { $0.close(listener) }, epoll: { $0.close(listener) })
    }
}
