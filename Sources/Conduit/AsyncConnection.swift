import Glibc

/// The async/await face of a client connection, for ordinary Swift code: connect,
/// send, receive, close, each awaiting the loop. Every call hops to the connection's
/// loop (one `execute` per call), so prefer a `ConnectionHandler` on the hot path.
public final class AsyncConnection: Sendable {
    private let bridge: AsyncBridge

    private init(bridge: AsyncBridge) { self.bridge = bridge }

    /// Connects to `address` on `loop` (a running loop, e.g. from an `EventLoopGroup`).
    /// Throws the connect error, such as connection refused.
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, options: ConnectOptions = ConnectOptions()
    ) async throws(SocketError) -> AsyncConnection {
        let bridge = AsyncBridge(loop: loop)
        let outcome: Result<Void, SocketError> = await withCheckedContinuation { continuation in
            loop.execute { bridge.connect(to: address, options: options, continuation) }
        }
        try outcome.get()
        return AsyncConnection(bridge: bridge)
    }

    /// Sends `bytes`; returns once the kernel has taken all of them. Throws if the
    /// connection fails or is closed first.
    public func send(_ bytes: [UInt8]) async throws(SocketError) {
        let bridge = self.bridge
        let outcome: Result<Void, SocketError> = await withCheckedContinuation { continuation in
            bridge.loop.execute { bridge.send(bytes, continuation) }
        }
        try outcome.get()
    }

    /// The next bytes received, as they arrived (a read may hold part of a message or
    /// several); `nil` once the peer has closed and everything was received.
    public func receive() async throws(SocketError) -> [UInt8]? {
        let bridge = self.bridge
        let outcome: Result<[UInt8]?, SocketError> = await withCheckedContinuation { continuation in
            bridge.loop.execute { bridge.receive(continuation) }
        }
        return try outcome.get()
    }

    /// Closes the connection after sending what is queued.
    public func close() async {
        let bridge = self.bridge
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            bridge.loop.execute {
                bridge.connection?.close(afterFlush: true)
                continuation.resume()
            }
        }
    }
}

/// The loop-side state of an `AsyncConnection`: a handler that parks received bytes
/// and resumes waiting tasks. Touched only on its loop (hence `@unchecked Sendable`).
final class AsyncBridge: ConnectionHandler, @unchecked Sendable {
    let loop: EventLoop
    var connection: Connection?
    private var received: [[UInt8]] = []
    private var ended = false
    private var failure: SocketError?
    private var opening: CheckedContinuation<Result<Void, SocketError>, Never>?
    private var receiving: CheckedContinuation<Result<[UInt8]?, SocketError>, Never>?
    private var sending: [CheckedContinuation<Result<Void, SocketError>, Never>] = []

    init(loop: EventLoop) { self.loop = loop }

    func connect(to address: SocketAddress, options: ConnectOptions, _ continuation: CheckedContinuation<Result<Void, SocketError>, Never>) {
        opening = continuation
        do {
            connection = try Connection.connect(to: address, on: loop, options: options, handler: self)
        } catch {
            opening = nil
            continuation.resume(returning: .failure(error))
        }
    }

    func send(_ bytes: [UInt8], _ continuation: CheckedContinuation<Result<Void, SocketError>, Never>) {
        guard let connection, connection.isOpen, failure == nil else {
            continuation.resume(returning: .failure(failure ?? SocketError(code: EPIPE, operation: "send")))
            return
        }
        connection.write(bytes)
        if !connection.isOpen {
            continuation.resume(returning: .failure(failure ?? SocketError(code: EPIPE, operation: "send")))
        } else if connection.pendingOutputBytes == 0 {
            continuation.resume(returning: .success(()))
        } else {
            sending.append(continuation)
        }
    }

    func receive(_ continuation: CheckedContinuation<Result<[UInt8]?, SocketError>, Never>) {
        if !received.isEmpty {
            continuation.resume(returning: .success(received.removeFirst()))
        } else if let failure {
            continuation.resume(returning: .failure(failure))
        } else if ended {
            continuation.resume(returning: .success(nil))
        } else {
            receiving = continuation
        }
    }

    func connectionDidOpen(_ connection: Connection) {
        opening?.resume(returning: .success(()))
        opening = nil
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        if let waiting = receiving {
            receiving = nil
            waiting.resume(returning: .success(Array(bytes)))
        } else {
            received.append(Array(bytes))
        }
        return bytes.count
    }

    func connectionDidDrain(_ connection: Connection) {
        let waiting = sending
        sending.removeAll()
        for continuation in waiting { continuation.resume(returning: .success(())) }
    }

    func connectionDidReachEnd(_ connection: Connection) {
        ended = true
        receiving?.resume(returning: .success(nil))
        receiving = nil
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        if let error { failure = error }
        ended = true
        opening?.resume(returning: .failure(error ?? SocketError(code: ECONNRESET, operation: "connect")))
        opening = nil
        receiving?.resume(returning: failure.map { .failure($0) } ?? .success(nil))
        receiving = nil
        let waiting = sending
        sending.removeAll()
        for continuation in waiting {
            continuation.resume(returning: .failure(failure ?? SocketError(code: EPIPE, operation: "send")))
        }
    }
}
