import Glibc
import Synchronization

/// The async/await face of a client connection, for ordinary Swift code: connect,
/// send, receive raw bytes or framed messages, pipeline requests, close.
///
/// - Every call can be stopped. Cancelling the task of a waiting call ends it at once
///   with `SocketError.Kind.cancelled`; a call that waits longer than its deadline
///   (`Deadlines`, or the `timeout` it is given) ends with `.timedOut`. Either way the
///   connection stays usable: bytes that arrive later stay for the next receive, a
///   request keeps its answer's place, and what a send had queued is still sent.
/// - One consumer at a time: a second `receive`/`receiveMessage` while one waits throws
///   `SocketError.Kind.misuse` at once (it never corrupts or hangs the first).
/// - Input is bounded: above `connect`'s `inputLimit` (1 MiB) of unclaimed bytes
///   the connection stops reading until the consumer catches up (the peer's sends then
///   block in the kernel), so a consumer that never calls `receive` costs no memory.
/// - `close()` sends what is queued and returns once the connection is closed (at the
///   latest after the send deadline, or 10 s); `abort()` closes at once, dropping what
///   is unsent. Released without either, the connection is aborted. When a receive
///   returns nil (the peer has finished), close it too: a server stopping gracefully
///   waits for its peers to close, up to its grace period.
///
/// Every call hops to the connection's loop (one `execute` per call), so prefer a
/// `ConnectionHandler` on the hot path. Calls made after the loop has stopped, and calls
/// waiting when it stops, throw `SocketError.Kind.loopStopped`.
public final class AsyncConnection: Sendable {
    /// How long each kind of call may wait before it throws `SocketError.Kind.timedOut`;
    /// nil: for as long as it takes (until cancelled).
    public struct Deadlines: Sendable {
        /// For the connection to be made.
        public var connect: Duration?
        /// For a send's bytes to be taken by the kernel (a peer that stops reading
        /// makes a send wait).
        public var send: Duration?
        /// For a receive's bytes or message.
        public var receive: Duration?
        /// For a request's answer, from when it is sent.
        public var request: Duration?

        /// Deadlines with every default spelled out (none); name only what you set.
        public init(connect: Duration? = nil, send: Duration? = nil, receive: Duration? = nil, request: Duration? = nil) {
            self.connect = connect
            self.send = send
            self.receive = receive
            self.request = request
        }
    }

    private let bridge: LoopBound<AsyncBridge>
    /// The deadlines each call gets unless it is given its own.
    public let deadlines: Deadlines
    /// The peer's address (for an accepted connection, the client's), known once the
    /// connection was made; nil for a Unix peer that never bound a path.
    public let peerAddress: SocketAddress?

    init(bridge: LoopBound<AsyncBridge>, peerAddress: SocketAddress?, deadlines: Deadlines = Deadlines()) {
        self.bridge = bridge
        self.peerAddress = peerAddress
        self.deadlines = deadlines
    }

    /// The loop this connection lives on: a task preferring it as its executor
    /// (`Task(executorPreference: connection.loop)`) runs beside the connection's I/O.
    public var loop: EventLoop { bridge.loop }

    deinit {
        let bridge = self.bridge
        try? bridge.loop.execute { bridge.value.abort() }
    }

    /// Connects to `address` on `loop` (a running loop, e.g. from an `EventLoopGroup`).
    /// Throws the connect error, such as connection refused, `.timedOut` past
    /// `deadlines.connect`, or `.cancelled`.
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, options: ConnectOptions = ConnectOptions(),
        inputLimit: Int = 1 << 20, deadlines: Deadlines = Deadlines()
    ) async throws(SocketError) -> AsyncConnection {
        let token = WaitToken()
        let opened = Locked<LoopBound<AsyncBridge>?>(nil)
        let peer: SocketAddress? = try await onLoop(
            loop, "connect", token: token, timeout: deadlines.connect,
            forget: { opened.withLock { $0 }?.value.abort() }
        ) { resume in
            let bridge = AsyncBridge(loop: loop, inputLimit: inputLimit)
            let bound = LoopBound(bridge, on: loop)
            opened.withLock { $0 = bound }
            bridge.connect(to: address, options: options) { outcome in
                resume(outcome.map { bridge.connection?.peerAddress })
            }
        }
        guard let bridge = opened.withLock({ $0 }) else { throw SocketError(.loopStopped, operation: "connect") }
        return AsyncConnection(bridge: bridge, peerAddress: peer, deadlines: deadlines)
    }

    /// Sends `bytes`; returns once the kernel has taken all of them. Throws if the
    /// connection fails or is closed first, or `.timedOut` after `timeout` (default
    /// `deadlines.send`), or `.cancelled`; the bytes stay queued then.
    public func send(_ bytes: [UInt8], timeout: Duration? = nil) async throws(SocketError) {
        let bridge = self.bridge
        let token = WaitToken()
        try await Self.onLoop(
            bridge.loop, "send", token: token, timeout: timeout ?? deadlines.send, forget: { bridge.value.forget(token) }
        ) { resume in bridge.value.send(bytes, token: token, resume) }
    }

    /// The bytes received and not yet taken, as much as has arrived (part of a message
    /// or several); `nil` once the peer has closed and everything was taken.
    public func receive(timeout: Duration? = nil) async throws(SocketError) -> [UInt8]? {
        let bridge = self.bridge
        let token = WaitToken()
        return try await Self.onLoop(
            bridge.loop, "receive", token: token, timeout: timeout ?? deadlines.receive,
            forget: { bridge.value.forget(token) }
        ) { resume in
            bridge.value.receive(.bytes, token: token, resume)
        }
    }

    /// The next whole message as `framing` splits the stream, framing included (a
    /// line with its newline, an app message with its headers: see `receivePayload`);
    /// `nil` once the peer has closed after a whole message. A stream that ends
    /// mid-message throws `.connectionReset`; bytes `framing` calls invalid throw
    /// `.badFraming` and close.
    public func receiveMessage(_ framing: some MessageFraming, timeout: Duration? = nil) async throws(SocketError) -> [UInt8]? {
        let bridge = self.bridge
        let token = WaitToken()
        return try await Self.onLoop(
            bridge.loop, "receive", token: token, timeout: timeout ?? deadlines.receive,
            forget: { bridge.value.forget(token) }
        ) { resume in
            bridge.value.receive(.message(framing), token: token, resume)
        }
    }

    /// The next message's payload: `receiveMessage` without what `framing` adds around
    /// it (`MessageFraming.payload(of:)`: a line without its newline, an app message's
    /// content without its headers).
    public func receivePayload(_ framing: some MessageFraming, timeout: Duration? = nil) async throws(SocketError) -> [UInt8]? {
        guard let message = try await receiveMessage(framing, timeout: timeout) else { return nil }
        return framing.payload(in: message)
    }

    /// The messages as `framing` splits the stream, until the peer closes.
    public func messages<Framing: MessageFraming>(_ framing: Framing) -> AsyncMessages<Framing> {
        AsyncMessages(connection: self, framing: framing, payloadOnly: false)
    }

    /// The messages' payloads (see `receivePayload`), until the peer closes.
    public func payloads<Framing: MessageFraming>(_ framing: Framing) -> AsyncMessages<Framing> {
        AsyncMessages(connection: self, framing: framing, payloadOnly: true)
    }

    /// Sends `request` and returns its answer: the next message, by `framing`, not yet
    /// claimed by an earlier request. Many tasks may call it at once: requests go out in
    /// the order their calls reach the loop and take answers in that order (a
    /// protocol that answers in order, like the app protocol, is pipelined this way).
    /// Do not mix with `receive`/`receiveMessage` on one connection (`.misuse`). A
    /// cancelled or timed-out call (default `deadlines.request`) still leaves its
    /// answer's place, so later answers stay matched.
    public func request(_ request: [UInt8], framing: some MessageFraming, timeout: Duration? = nil) async throws(SocketError)
        -> [UInt8]
    {
        let bridge = self.bridge
        let token = WaitToken()
        return try await Self.onLoop(
            bridge.loop, "request", token: token, timeout: timeout ?? deadlines.request,
            forget: { bridge.value.forget(token) }
        ) { resume in
            bridge.value.request(request, framing: framing, token: token, resume)
        }
    }

    /// Sends what is queued, then closes; returns once the connection is closed. A peer
    /// that does not read holds it at most `deadlines.send` (10 s without one); then the
    /// connection is aborted. Sends still waiting end with an error.
    public func close() async {
        let bridge = self.bridge
        let limit = deadlines.send ?? .seconds(10)
        _ = try? await Self.onLoop(bridge.loop, "close", token: nil, timeout: nil) {
            (resume: @escaping @Sendable (Result<Void, SocketError>) -> Void) in
            bridge.value.close(within: limit) { resume(.success(())) }
        }
    }

    /// Closes at once, dropping what is unsent; every waiting call ends with an error.
    public func abort() async {
        let bridge = self.bridge
        _ = try? await Self.onLoop(bridge.loop, "abort", token: nil, timeout: nil) {
            (resume: @escaping @Sendable (Result<Void, SocketError>) -> Void) in
            bridge.value.abort()
            resume(.success(()))
        }
    }

    /// Runs `body` on `loop` and awaits the result it passes to its callback; throws
    /// `.loopStopped` at once if the loop no longer takes work. With a `token`, a
    /// cancellation of the calling task ends the wait at once with `.cancelled`, and
    /// `timeout` (when given) ends it with `.timedOut`; `forget` then runs on the loop,
    /// to let go of what the call was waiting for.
    private static func onLoop<T: Sendable>(
        _ loop: EventLoop, _ operation: String, token: WaitToken?, timeout: Duration?,
        forget: (@Sendable () -> Void)? = nil,
        _ body: @escaping @Sendable (@escaping @Sendable (Result<T, SocketError>) -> Void) -> Void
    ) async throws(SocketError) -> T {
        let outcome: Result<T, SocketError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resume: @Sendable (Result<T, SocketError>) -> Void = { result in
                    // Exactly once, whether the loop, the deadline or the cancellation
                    // gets there first.
                    if token?.finish() ?? true { continuation.resume(returning: result) }
                }
                token?.onEnd = { error in resume(.failure(error)) }
                do throws(SocketError) {
                    try loop.execute {
                        if let token, let timeout {
                            let timer = LoopBound(
                                loop.schedule(after: timeout) {
                                    token.end(SocketError(code: ETIMEDOUT, operation: "\(operation): nothing within \(timeout)"))
                                    forget?()
                                }, on: loop)
                            // Finished before its deadline: the timer goes (on the loop).
                            token.onFinish {
                                if loop.isInLoop { timer.value.cancel() } else { try? loop.execute { timer.value.cancel() } }
                            }
                        }
                        body(resume)
                    }
                } catch {
                    resume(.failure(SocketError(.loopStopped, operation: operation)))
                }
                if Task.isCancelled { token?.end(SocketError(.cancelled, operation: operation)) }
            }
        } onCancel: {
            token?.end(SocketError(.cancelled, operation: operation))
            // The loop forgets the waiter (its answer's place, for a request, is kept).
            if let forget { try? loop.execute(forget) }
        }
        return try outcome.get()
    }
}

/// The messages of an `AsyncConnection` as a framing splits them (or their payloads);
/// ends when the peer closes. One iterator at a time (like `receiveMessage`).
public struct AsyncMessages<Framing: MessageFraming>: AsyncSequence, Sendable {
    let connection: AsyncConnection
    let framing: Framing
    let payloadOnly: Bool

    /// Creates the iterator.
    public func makeAsyncIterator() -> Iterator { Iterator(connection: connection, framing: framing, payloadOnly: payloadOnly) }

    /// Awaits each message in turn.
    public struct Iterator: AsyncIteratorProtocol {
        let connection: AsyncConnection
        let framing: Framing
        let payloadOnly: Bool

        /// The next message, or nil at the end of the stream.
        public mutating func next() async throws(SocketError) -> [UInt8]? {
            payloadOnly ? try await connection.receivePayload(framing) : try await connection.receiveMessage(framing)
        }

        /// The next message, or nil at the end of the stream (isolation-inheriting form).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(SocketError) -> [UInt8]? {
            payloadOnly ? try await connection.receivePayload(framing) : try await connection.receiveMessage(framing)
        }
    }
}

/// One waiting call: finished exactly once, by the loop, by its deadline or by a
/// cancellation, and tells the loop when its caller has gone.
final class WaitToken: Sendable {
    private let state = Locked(State())

    private struct State {
        var finished = false
        var ended = false
        var onEnd: (@Sendable (SocketError) -> Void)?
        var onFinish: (@Sendable () -> Void)?
    }

    /// Marks the call finished; false if it already was. Drops the actions it holds,
    /// which hold the continuation's resume and through it this token: kept, the two
    /// would never be freed.
    func finish() -> Bool {
        let (first, action) = state.withLock { state -> (Bool, (@Sendable () -> Void)?) in
            defer {
                state.finished = true
                state.onEnd = nil
                state.onFinish = nil
            }
            return (!state.finished, state.finished ? nil : state.onFinish)
        }
        action?()
        return first
    }

    /// What ends the call with an error (cancellation, deadline).
    var onEnd: (@Sendable (SocketError) -> Void)? {
        get { state.withLock { $0.onEnd } }
        // Set after the call has finished (the loop answered at once), it is not kept.
        set { state.withLock { if !$0.finished { $0.onEnd = newValue } } }
    }

    /// Runs `action` when the call finishes (at once if it has).
    func onFinish(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.finished { return true }
            state.onFinish = action
            return false
        }
        if now { action() }
    }

    /// True once the caller gave up (cancelled, or past its deadline).
    var hasEnded: Bool { state.withLock { $0.ended } }

    /// Records that the caller gave up and finishes the call with `error`.
    func end(_ error: SocketError) {
        let action = state.withLock { state -> (@Sendable (SocketError) -> Void)? in
            state.ended = true
            return state.onEnd
        }
        action?(error)
    }
}
