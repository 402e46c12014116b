import Synchronization

/// The async/await face of a client connection, for ordinary Swift code: connect,
/// send, receive raw bytes or framed messages, pipeline requests, close.
///
/// - One consumer at a time: a second `receive`/`receiveMessage` while one waits throws
///   `SocketError.Kind.misuse` at once (it never corrupts or hangs the first).
/// - Cancelling the task of a waiting call ends that call at once with
///   `SocketError.Kind.cancelled`; bytes that arrive later stay for the next call.
/// - Input is bounded: above `connect`'s `inputLimit` (1 MiB) of unclaimed bytes
///   the connection stops reading until the consumer catches up (the peer's sends then
///   block in the kernel), so a consumer that never calls `receive` costs no memory.
/// - Released without `close()`, the connection is closed. When a receive returns nil
///   (the peer has finished), close it too: a server stopping gracefully waits for its
///   peers to close, up to its grace period.
///
/// Every call hops to the connection's loop (one `execute` per call), so prefer a
/// `ConnectionHandler` on the hot path. Calls made after the loop has stopped, and calls
/// waiting when it stops, throw `SocketError.Kind.loopStopped`.
public final class AsyncConnection: Sendable {
    private let bridge: LoopBound<AsyncBridge>

    init(bridge: LoopBound<AsyncBridge>) { self.bridge = bridge }

    /// The loop this connection lives on: a task preferring it as its executor
    /// (`Task(executorPreference: connection.loop)`) runs beside the connection's I/O.
    public var loop: EventLoop { bridge.loop }

    deinit {
        let bridge = self.bridge
        try? bridge.loop.execute { bridge.value.close() }
    }

    /// The peer's address (for an accepted connection, the client's).
    public var peerAddress: SocketAddress? {
        get async {
            let bridge = self.bridge
            return try? await Self.onLoop(bridge.loop, "peerAddress", token: nil) { resume in
                resume(.success(bridge.value.connection?.peerAddress))
            }
        }
    }

    /// Connects to `address` on `loop` (a running loop, e.g. from an `EventLoopGroup`).
    /// Throws the connect error, such as connection refused.
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, options: ConnectOptions = ConnectOptions(),
        inputLimit: Int = 1 << 20
    ) async throws(SocketError) -> AsyncConnection {
        let bridge: LoopBound<AsyncBridge> = try await onLoop(loop, "connect", token: nil) { resume in
            let bridge = AsyncBridge(loop: loop, inputLimit: inputLimit)
            let bound = LoopBound(bridge, on: loop)
            bridge.connect(to: address, options: options) { outcome in resume(outcome.map { bound }) }
        }
        return AsyncConnection(bridge: bridge)
    }

    /// Sends `bytes`; returns once the kernel has taken all of them. Throws if the
    /// connection fails or is closed first.
    public func send(_ bytes: [UInt8]) async throws(SocketError) {
        let bridge = self.bridge
        try await Self.onLoop(bridge.loop, "send", token: nil) { resume in bridge.value.send(bytes, resume) }
    }

    /// The bytes received and not yet taken, as much as has arrived (part of a message
    /// or several); `nil` once the peer has closed and everything was taken.
    public func receive() async throws(SocketError) -> [UInt8]? {
        let bridge = self.bridge
        let token = WaitToken()
        return try await Self.onLoop(
            bridge.loop, "receive", token: token, forget: { bridge.value.forget(token) }
        ) { resume in
            bridge.value.receive(.bytes, token: token, resume)
        }
    }

    /// The next whole message as `framing` splits the stream; `nil` once the peer has
    /// closed after a whole message. A stream that ends mid-message throws
    /// `.connectionReset`; bytes `framing` calls invalid throw `.badFraming` and close.
    public func receiveMessage(_ framing: some MessageFraming) async throws(SocketError) -> [UInt8]? {
        let bridge = self.bridge
        let token = WaitToken()
        return try await Self.onLoop(
            bridge.loop, "receive", token: token, forget: { bridge.value.forget(token) }
        ) { resume in
            bridge.value.receive(.message(framing), token: token, resume)
        }
    }

    /// The messages as `framing` splits the stream, until the peer closes.
    public func messages<Framing: MessageFraming>(_ framing: Framing) -> AsyncMessages<Framing> {
        AsyncMessages(connection: self, framing: framing)
    }

    /// Sends `request` and returns its answer: the next message, by `framing`, not yet
    /// claimed by an earlier request. Many tasks may call it at once: requests go out in
    /// the order their calls reach the loop and take answers in that order (a
    /// protocol that answers in order, like the app protocol, is pipelined this way).
    /// Do not mix with `receive`/`receiveMessage` on one connection (`.misuse`). A
    /// cancelled call still leaves its answer's place, so later answers stay matched.
    public func request(_ request: [UInt8], framing: some MessageFraming) async throws(SocketError) -> [UInt8] {
        let bridge = self.bridge
        let token = WaitToken()
        return try await Self.onLoop(
            bridge.loop, "request", token: token, forget: { bridge.value.forget(token) }
        ) { resume in
            bridge.value.request(request, framing: framing, token: token, resume)
        }
    }

    /// Closes the connection after sending what is queued.
    public func close() async {
        let bridge = self.bridge
        _ = try? await Self.onLoop(bridge.loop, "close", token: nil) { (resume: @escaping (Result<Void, SocketError>) -> Void) in
            bridge.value.close()
            resume(.success(()))
        }
    }

    /// Runs `body` on `loop` and awaits the result it passes to its callback; throws
    /// `.loopStopped` at once if the loop no longer takes work. With a `token`, a
    /// cancellation of the calling task ends the wait at once with `.cancelled`.
    private static func onLoop<T: Sendable>(
        _ loop: EventLoop, _ operation: String, token: WaitToken?, forget: (@Sendable () -> Void)? = nil,
        _ body: @escaping @Sendable (@escaping (Result<T, SocketError>) -> Void) -> Void
    ) async throws(SocketError) -> T {
        let outcome: Result<T, SocketError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resume: @Sendable (Result<T, SocketError>) -> Void = { result in
                    // Exactly once, whether the loop or the cancellation gets there first.
                    if token?.finish() ?? true { continuation.resume(returning: result) }
                }
                token?.onCancel = { resume(.failure(SocketError(.cancelled, operation: operation))) }
                do throws(SocketError) {
                    try loop.execute { body(resume) }
                } catch {
                    resume(.failure(SocketError(.loopStopped, operation: operation)))
                }
                if Task.isCancelled { token?.cancel() }
            }
        } onCancel: {
            token?.cancel()
            // The loop forgets the waiter (its answer's place, for a request, is kept).
            if let forget { try? loop.execute(forget) }
        }
        return try outcome.get()
    }
}

/// The messages of an `AsyncConnection` as a framing splits them; ends when the peer
/// closes. One iterator at a time (like `receiveMessage`).
public struct AsyncMessages<Framing: MessageFraming>: AsyncSequence, Sendable {
    let connection: AsyncConnection
    let framing: Framing

    /// Creates the iterator.
    public func makeAsyncIterator() -> Iterator { Iterator(connection: connection, framing: framing) }

    /// Awaits each message in turn.
    public struct Iterator: AsyncIteratorProtocol {
        let connection: AsyncConnection
        let framing: Framing

        /// The next message, or nil at the end of the stream.
        public mutating func next() async throws(SocketError) -> [UInt8]? {
            try await connection.receiveMessage(framing)
        }

        /// The next message, or nil at the end of the stream (isolation-inheriting form).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(SocketError) -> [UInt8]? {
            try await connection.receiveMessage(framing)
        }
    }
}

/// One waiting call: finished exactly once, by the loop or by a cancellation, and
/// tells the loop when its caller has gone.
final class WaitToken: Sendable {
    private let state = Locked(State())

    private struct State {
        var finished = false
        var cancelled = false
        var onCancel: (@Sendable () -> Void)?
    }

    /// Marks the call finished; false if it already was. Drops the cancellation action,
    /// which holds the continuation's resume and through it this token: kept, the two
    /// would never be freed.
    func finish() -> Bool {
        state.withLock { state in
            defer {
                state.finished = true
                state.onCancel = nil
            }
            return !state.finished
        }
    }

    /// What finishes the call when it is cancelled.
    var onCancel: (@Sendable () -> Void)? {
        get { state.withLock { $0.onCancel } }
        // Set after the call has finished (the loop answered at once), it is not kept.
        set { state.withLock { if !$0.finished { $0.onCancel = newValue } } }
    }

    /// True once the caller cancelled.
    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Records the cancellation and finishes the call with its error.
    func cancel() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            state.cancelled = true
            return state.onCancel
        }
        action?()
    }
}
