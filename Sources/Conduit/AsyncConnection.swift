import Glibc

/// The async/await face of a client connection, for ordinary Swift code: connect,
/// send, receive, close, each awaiting the loop. Every call hops to the connection's
/// loop (one `execute` per call), so prefer a `ConnectionHandler` on the hot path.
///
/// Calls made after the loop has stopped, and calls waiting when it stops, throw
/// `SocketError.Kind.loopStopped`.
public final class AsyncConnection: Sendable {
    private let bridge: LoopBound<AsyncBridge>

    private init(bridge: LoopBound<AsyncBridge>) { self.bridge = bridge }

    /// Connects to `address` on `loop` (a running loop, e.g. from an `EventLoopGroup`).
    /// Throws the connect error, such as connection refused.
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, options: ConnectOptions = ConnectOptions()
    ) async throws(SocketError) -> AsyncConnection {
        let bridge: LoopBound<AsyncBridge> = try await onLoop(loop, "connect") { resume in
            let bridge = AsyncBridge(loop: loop)
            let bound = LoopBound(bridge, on: loop)
            bridge.connect(to: address, options: options) { outcome in resume(outcome.map { bound }) }
        }
        return AsyncConnection(bridge: bridge)
    }

    /// Sends `bytes`; returns once the kernel has taken all of them. Throws if the
    /// connection fails or is closed first.
    public func send(_ bytes: [UInt8]) async throws(SocketError) {
        let bridge = self.bridge
        try await Self.onLoop(bridge.loop, "send") { resume in bridge.value.send(bytes, resume) }
    }

    /// The next bytes received, as they arrived (a read may hold part of a message or
    /// several); `nil` once the peer has closed and everything was received. One
    /// receive at a time: a second concurrent call throws `SocketError.Kind.misuse`.
    public func receive() async throws(SocketError) -> [UInt8]? {
        let bridge = self.bridge
        return try await Self.onLoop(bridge.loop, "receive") { resume in bridge.value.receive(resume) }
    }

    /// Closes the connection after sending what is queued.
    public func close() async {
        let bridge = self.bridge
        _ = try? await Self.onLoop(bridge.loop, "close") { (resume: @escaping (Result<Void, SocketError>) -> Void) in
            bridge.value.connection?.close(afterFlush: true)
            resume(.success(()))
        }
    }

    /// Runs `body` on `loop` and awaits the result it passes to its callback; throws
    /// `.loopStopped` at once if the loop no longer takes work.
    private static func onLoop<T: Sendable>(
        _ loop: EventLoop, _ operation: String,
        _ body: @escaping @Sendable (@escaping (Result<T, SocketError>) -> Void) -> Void
    ) async throws(SocketError) -> T {
        let outcome: Result<T, SocketError> = await withCheckedContinuation { continuation in
            do throws(SocketError) {
                try loop.execute { body { continuation.resume(returning: $0) } }
            } catch {
                continuation.resume(returning: .failure(SocketError(.loopStopped, operation: operation)))
            }
        }
        return try outcome.get()
    }
}

/// The loop-side state of an `AsyncConnection`: a handler that parks received bytes
/// and resumes waiting tasks. Lives on its loop only (reached through `LoopBound`).
final class AsyncBridge: ConnectionHandler {
    typealias Completion<T> = (Result<T, SocketError>) -> Void
    let loop: EventLoop
    var connection: Connection?
    private var received: [[UInt8]] = []
    private var ended = false
    private var failure: SocketError?
    private var opening: Completion<Void>?
    private var receiving: Completion<[UInt8]?>?
    private var sending: [Completion<Void>] = []

    init(loop: EventLoop) { self.loop = loop }

    private var sendFailure: SocketError { failure ?? SocketError(code: EPIPE, operation: "send") }

    func connect(to address: SocketAddress, options: ConnectOptions, _ completion: @escaping Completion<Void>) {
        opening = completion
        do {
            connection = try Connection.connect(to: address, on: loop, options: options, handler: self)
        } catch {
            opening = nil
            completion(.failure(error))
        }
    }

    func send(_ bytes: [UInt8], _ completion: @escaping Completion<Void>) {
        guard let connection, connection.isOpen, failure == nil else {
            completion(.failure(sendFailure))
            return
        }
        connection.write(bytes)
        if !connection.isOpen {
            completion(.failure(sendFailure))
        } else if connection.pendingOutputBytes == 0 {
            completion(.success(()))
        } else {
            sending.append(completion)
        }
    }

    func receive(_ completion: @escaping Completion<[UInt8]?>) {
        if !received.isEmpty {
            completion(.success(received.removeFirst()))
        } else if let failure {
            completion(.failure(failure))
        } else if ended {
            completion(.success(nil))
        } else if receiving != nil {
            completion(.failure(SocketError(.misuse, operation: "receive while another receive is waiting")))
        } else {
            receiving = completion
        }
    }

    func connectionDidOpen(_ connection: Connection) {
        opening?(.success(()))
        opening = nil
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        if let waiting = receiving {
            receiving = nil
            waiting(.success(Array(bytes)))
        } else {
            received.append(Array(bytes))
        }
        return bytes.count
    }

    func connectionDidDrain(_ connection: Connection) {
        let waiting = sending
        sending.removeAll()
        for completion in waiting { completion(.success(())) }
    }

    func connectionDidReachEnd(_ connection: Connection) {
        ended = true
        receiving?(.success(nil))
        receiving = nil
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        if let error { failure = error }
        ended = true
        opening?(.failure(error ?? SocketError(code: ECONNRESET, operation: "connect")))
        opening = nil
        receiving?(failure.map { .failure($0) } ?? .success(nil))
        receiving = nil
        let waiting = sending
        sending.removeAll()
        for completion in waiting { completion(.failure(sendFailure)) }
    }
}
