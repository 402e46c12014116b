/// How the sockets of one event loop move their bytes: the small interface connections
/// and listeners call, with one implementation per kernel interface.
///
/// - `EpollTransport` (`shim` and `swift` backends): readiness through epoll, then
///   `recv`/`send` at once on the loop's thread.
/// - `RingTransport` (`uring`): operations through an io_uring ring — one multishot
///   receive per connection into the ring's buffers, one send in flight, one multishot
///   accept per listener — and their completions in a batch per turn.
///
/// A connection says what it wants (its `ConnectionState`: read, send what is queued,
/// wait for a connect) and the transport makes it so; the transport hands back what
/// happened (input, its end, output taken, an error) through the connection's own
/// methods. Nothing above this interface asks which transport runs. Each loop owns one
/// transport (held as a `LoopTransport`, which calls it directly), used on the loop's
/// thread only. A transport keeps no reference to its
/// loop: it is handed the loop, or reaches it through the connection or listener it is
/// called for (a stored `unowned(unsafe)` reference cost a retain and a release at
/// every use: 500 instructions per echoed message).
protocol Transport: AnyObject {
    /// Makes the transport usable on the calling thread, the one that will run the loop
    /// (for the ring, its only issuer). Called before every run; throws when the kernel
    /// refuses (the loop then fails with that error).
    func prepareToRun(on loop: EventLoop) throws(SocketError)

    /// One turn of the loop: waits at most `timeoutNanoseconds` (0: not at all;
    /// negative: until something happens) and hands everything that happened to the
    /// registered connections and listeners, and wake-ups to the loop. Throws when the
    /// transport cannot go on.
    func turn(on loop: EventLoop, timeoutNanoseconds: Int64) throws(SocketError)

    /// The loop stopped without finishing (`run(closingRegistered: false)`): whatever
    /// was queued must take effect now, not at a next turn that may never come.
    func loopStopped(on loop: EventLoop)

    /// The loop finished and closed everything registered: ends what is still in the
    /// kernel and frees the transport. Nothing may use it afterwards.
    func finish(on loop: EventLoop)

    /// Adds a connection: from now on its state decides what the transport does for it.
    func register(_ connection: Connection) throws(SocketError)

    /// The connection's state changed: reads, sends and connect waits follow it.
    func update(_ connection: Connection)

    /// Sends from `bytes` now, as far as the kernel takes them without blocking;
    /// returns how many it took (0 for a transport that sends only from the
    /// connection's queue), or nil after a fatal error (the connection is then closed).
    func send(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int?

    /// `send(_:_:)` of `header` then `body` in one call, without copying them together.
    func send(_ connection: Connection, _ header: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> Int?

    /// The connection is closing now: its operations end, and its socket may be closed
    /// as soon as this returns (none of them can reach a later socket with the same
    /// number). Removes it from the loop.
    func close(_ connection: Connection)

    /// Adds a listener, accepting at once.
    func register(_ listener: Listener) throws(SocketError)

    /// Pauses accepting (out of descriptors) or resumes it.
    func setAccepting(_ listener: Listener, _ accepting: Bool)

    /// The listener is closing: accepting ends, and its port is free once the socket
    /// closes. Removes it from the loop.
    func close(_ listener: Listener)
}

/// What a connection or listener has asked of its loop's transport: only the
/// transports read or write it.
struct TransportSlot {
    /// The registry token (descriptor and generation) its epoll events and ring
    /// operations carry; 0 until registered.
    var token: UInt64 = 0
    /// epoll: the events the epoll set watches for it (0: not in the set).
    var watching: UInt32 = 0
    /// ring: its multishot receive (a listener's accept, or its readiness poll).
    var operation = RingOperation.idle
    /// ring: a send is in flight.
    var sending = false
    /// ring: a one-shot readiness poll is in flight (a connect in progress, or a
    /// listener that accepts on readiness).
    var polling = false
    /// ring: a listener whose kernel refused the multishot accept, accepting on
    /// readiness instead.
    var acceptsOnReadiness = false
    /// ring: the first and last of the receive buffers held for this connection (input
    /// that arrived while it could not take any), chained in arrival order; `noBuffer`
    /// when none.
    var heldFirst = TransportSlot.noBuffer
    var heldLast = TransportSlot.noBuffer
    /// ring: the held buffers are queued to be handed over at the next turn.
    var deliveryQueued = false

    /// No receive buffer.
    static let noBuffer = UInt16.max

    /// ring: the transport holds input for this connection.
    var holdsInput: Bool { heldFirst != Self.noBuffer }

    /// True once registered with the loop.
    var isRegistered: Bool { token != 0 }
}

/// Where a multishot operation of the ring is.
enum RingOperation {
    /// Not in the ring.
    case idle
    /// In the ring: completions come as it does its work.
    case armed
    /// Cancelled, and its last completion has not come yet; it is armed again then if
    /// still wanted (never two at once: two receives would split the input).
    case cancelling
}
