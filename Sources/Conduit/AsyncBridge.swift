import Glibc

/// The loop-side state of an `AsyncConnection`: a handler that keeps received bytes
/// (bounded: reading pauses above `inputLimit`), hands them to the one waiting
/// receiver or to pipelined requests in order, and resumes waiting senders. Lives on
/// its loop only (reached through `LoopBound`).
final class AsyncBridge: ConnectionHandler {
    typealias Completion<T> = (Result<T, SocketError>) -> Void

    /// What a waiting receiver wants.
    enum Wanted {
        /// Everything received so far.
        case bytes
        /// One whole message.
        case message(any MessageFraming)
    }

    private struct Receiver {
        let wanted: Wanted
        let token: WaitToken
        let completion: Completion<[UInt8]?>
    }

    private struct Requester {
        let framing: any MessageFraming
        let token: WaitToken
        let completion: Completion<[UInt8]>
    }

    let loop: EventLoop
    var connection: Connection?
    private let inputLimit: Int
    private let input = ByteBuffer()
    private var pausedForInput = false
    private var ended = false
    private var failure: SocketError?
    private var opening: Completion<Void>?
    private var receiver: Receiver?
    /// Requests sent and not yet answered, oldest first.
    private var requesters: [Requester] = []
    /// Sends waiting for their bytes to be taken, each with its caller's token.
    private var sending: [(token: WaitToken, completion: Completion<Void>)] = []
    /// `close()` calls waiting for the connection to be closed.
    private var closers: [() -> Void] = []

    /// For an accepted connection: told once it is open.
    private var onOpen: ((LoopBound<AsyncBridge>) -> Void)?

    init(loop: EventLoop, inputLimit: Int, onOpen: ((LoopBound<AsyncBridge>) -> Void)? = nil) {
        self.loop = loop
        self.inputLimit = max(inputLimit, 1)
        self.onOpen = onOpen
    }

    /// Why a send cannot go out: the connection's failure, or that it was closed here.
    private var sendFailure: SocketError { failure ?? SocketError(.notConnected, operation: "send: the connection is closed") }

    func connect(to address: SocketAddress, options: ConnectOptions, _ completion: @escaping Completion<Void>) {
        opening = completion
        do {
            connection = try Connection.connect(to: address, on: loop, options: options, handler: self)
        } catch {
            opening = nil
            completion(.failure(error))
        }
    }

    func send(_ bytes: [UInt8], token: WaitToken, _ completion: @escaping Completion<Void>) {
        guard !token.hasEnded else { return }
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
            sending.append((token, completion))
        }
    }

    func receive(_ wanted: Wanted, token: WaitToken, _ completion: @escaping Completion<[UInt8]?>) {
        guard !token.hasEnded else { return }
        if receiver != nil || !requesters.isEmpty {
            let why = receiver != nil ? "while another receive is waiting" : "while requests await answers"
            completion(.failure(SocketError(.misuse, operation: "receive \(why)")))
            return
        }
        receiver = Receiver(wanted: wanted, token: token, completion: completion)
        deliver()
    }

    func request(
        _ bytes: [UInt8], framing: any MessageFraming, token: WaitToken, _ completion: @escaping Completion<[UInt8]>
    ) {
        guard !token.hasEnded else { return }
        guard receiver == nil else {
            completion(.failure(SocketError(.misuse, operation: "request while a receive is waiting")))
            return
        }
        guard let connection, connection.isOpen, failure == nil, !ended else {
            completion(.failure(sendFailure))
            return
        }
        requesters.append(Requester(framing: framing, token: token, completion: completion))
        connection.write(bytes)
        deliver()
    }

    /// The caller of `token` has gone (cancelled, or past its deadline): a receiver or a
    /// waiting send is dropped (the send's bytes stay queued); a requester keeps its
    /// place, so its answer is taken and thrown away when it comes.
    func forget(_ token: WaitToken) {
        if receiver?.token === token { receiver = nil }
        sending.removeAll { $0.token === token }
    }

    /// Hands over what the input now allows: answers to requests in order, or the
    /// waiting receiver's bytes or message; then resumes or pauses reading.
    private func deliver() {
        while let first = requesters.first {
            guard let message = takeMessage(first.framing) else { break }
            requesters.removeFirst()
            first.completion(.success(message))
        }
        if let waiting = receiver {
            if waiting.token.hasEnded {
                receiver = nil
            } else if let outcome = outcome(for: waiting.wanted) {
                receiver = nil
                waiting.completion(outcome)
            }
        }
        if ended { failRequesters() }
        updateReading()
    }

    /// What a receiver gets now, or nil if it must wait.
    private func outcome(for wanted: Wanted) -> Result<[UInt8]?, SocketError>? {
        switch wanted {
        case .bytes:
            if !input.isEmpty {
                let bytes = Array(input.readableBytes)
                input.consume(bytes.count)
                return .success(bytes)
            }
        case .message(let framing):
            if let message = takeMessage(framing) { return .success(message) }
            if ended && !input.isEmpty && failure == nil {
                return .failure(SocketError(code: ECONNRESET, operation: "receive: stream ended mid-message"))
            }
        }
        if let failure { return .failure(failure) }
        return ended ? .success(nil) : nil
    }

    /// Takes the whole message at the front of the input, if there is one; closes the
    /// connection if the framing calls the input invalid.
    private func takeMessage(_ framing: any MessageFraming) -> [UInt8]? {
        guard !input.isEmpty else { return nil }
        // After the peer's orderly close (not a reset) a framing may end a message there
        // (UntilCloseFraming).
        let atEnd = ended && failure == nil
        switch atEnd ? framing.frameAtEnd(input.readableBytes) : framing.frame(input.readableBytes) {
        case .complete(let length) where length > 0 && length <= input.count:
            let message = Array(input.readableBytes.prefix(length))
            input.consume(length)
            return message
        case .complete(let length):
            fail(SocketError(.misuse, operation: "framing said \(length) bytes of \(input.count)"))
        case .invalid(let reason):
            fail(SocketError(.badFraming, operation: "receive: \(reason)"))
        case .needMore:
            break
        }
        return nil
    }

    private func fail(_ error: SocketError) {
        failure = failure ?? error
        ended = true
        input.reset()
        connection?.close()
    }

    private func failRequesters() {
        let waiting = requesters
        requesters.removeAll()
        let error = failure ?? SocketError(code: ECONNRESET, operation: "request: closed before the answer")
        for requester in waiting { requester.completion(.failure(error)) }
    }

    /// Bounded input: reading pauses while more than `inputLimit` bytes wait to be
    /// taken, and resumes once a quarter of that is left.
    private func updateReading() {
        guard let connection, connection.isOpen else { return }
        if !pausedForInput && input.count > inputLimit {
            pausedForInput = true
            connection.pauseReading()
        } else if pausedForInput && input.count <= inputLimit / 4 {
            pausedForInput = false
            connection.resumeReading()
        }
    }

    func connectionDidOpen(_ connection: Connection) {
        self.connection = connection
        opening?(.success(()))
        opening = nil
        onOpen?(LoopBound(self, on: loop))
        onOpen = nil
    }

    /// The server is stopping: no more input is read; the consumer gets what was
    /// received, then the end of the stream, and may still send. Its close (or its
    /// release) finishes the quiesce.
    func connectionShouldQuiesce(_ connection: Connection) {
        connection.pauseReading()
        ended = true
        deliver()
    }

    /// Closes after sending what is queued, and calls `done` once closed; a peer that
    /// does not read holds it at most `limit`, after which the connection is aborted.
    /// During a server's graceful stop: at once when nothing was received that is not
    /// taken and nothing is unsent (an idle peer would hold the stop for its whole
    /// grace period), else without losing what the peer has not read yet.
    func close(within limit: Duration, _ done: @escaping () -> Void) {
        guard let connection, connection.isOpen else {
            done()
            return
        }
        closers.append(done)
        if connection.isQuiescing {
            if !(input.isEmpty && connection.closeIfIdle()) { connection.finishQuiescing() }
        } else {
            connection.close(afterFlush: true)
        }
        guard connection.isOpen else { return }
        connection.loop.schedule(after: limit) { [weak self] in self?.abort() }
    }

    /// Closes at once, dropping what is unsent.
    func abort() {
        if let connection, connection.isOpen {
            connection.close()
        } else {
            // Connecting (no connection yet) or closed: nothing to drop; a connect in
            // progress fails.
            opening?(.failure(SocketError(.cancelled, operation: "connect")))
            opening = nil
        }
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        input.append(bytes)
        deliver()
        return bytes.count
    }

    func connectionDidDrain(_ connection: Connection) {
        let waiting = sending
        sending.removeAll()
        for send in waiting { send.completion(.success(())) }
    }

    func connectionDidReachEnd(_ connection: Connection) {
        ended = true
        deliver()
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        if let error { failure = failure ?? error }
        ended = true
        opening?(.failure(error ?? SocketError(code: ECONNRESET, operation: "connect")))
        opening = nil
        deliver()
        let waiting = sending
        sending.removeAll()
        for send in waiting { send.completion(.failure(sendFailure)) }
        let closed = closers
        closers.removeAll()
        for done in closed { done() }
    }
}
