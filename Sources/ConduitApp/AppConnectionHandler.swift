import Conduit
import ConduitMessage

/// Serves the application protocol on one connection: decodes requests in place,
/// answers each in order (pipelined requests included) through the router, and on a
/// protocol error sends one `Error: …` response, ends its side of the connection and
/// drains the peer's input for a moment before closing (so no reset destroys the answer).
/// Asynchronous actions run in tasks; their answers keep the requests' order (see
/// AsyncActions.swift).
final class AppConnectionHandler: ConnectionHandler {
    // `@exclusivity(unchecked)` on the per-message state: run-time checks cost about 80
    // instructions per access; it is loop-confined, and no access spans a call that
    // could reach it again (the decoder's callback touches everything but the decoder).
    @exclusivity(unchecked) private var decoder: MessageDecoder
    let service: LoopService
    /// The decoder's limits, read from the loop's service: the decoder is being mutated
    /// while its callback routes and logs a message, so reading them through it there
    /// is an exclusivity violation.
    private var limits: MessageLimits { service.limits }
    private var timeouts: RequestTimeouts { service.timeouts }
    /// The order answers go out in.
    @exclusivity(unchecked) var order = AnswerOrder()
    /// Asynchronous actions running for this connection.
    @exclusivity(unchecked) var inFlight = 0
    /// The tasks of asynchronous actions running, by request sequence number.
    var running: [Int: Task<Void, Never>] = [:]
    /// This handler as tasks may reach it: made when the first asynchronous action
    /// starts (most connections never need one), dropped on close.
    var bound: LoopBound<AppConnectionHandler>?
    /// When the message at the front of the input began, in monotonic nanoseconds (0:
    /// none has begun). A plain integer: an optional `ContinuousClock.Instant` was
    /// copied, compared and destroyed out of line on every request.
    @exclusivity(unchecked) private var messageStart: UInt64 = 0
    /// The size reserved in the server's memory budget for the message at the front.
    @exclusivity(unchecked) private var reservedSize = 0
    // The one-byte fields last and together: Swift lays fields out in order, and
    // padding after each would cost 100,000 idle connections 16 bytes each.
    @exclusivity(unchecked) var failed = false
    /// Reading paused because `maxInFlight` actions are running.
    @exclusivity(unchecked) var pausedForInFlight = false
    /// A server's graceful stop asked this connection to finish.
    var quiescing = false
    /// What to do once every answer is written: close, or close after an error.
    var afterAnswers: AfterAnswers = .keepServing

    init(service: LoopService) {
        self.service = service
        self.decoder = MessageDecoder(limits: service.limits)
    }

    func connectionDidOpen(_ connection: Connection) {
        service.log(.info, "Accepted connection from \(peer(connection))", peer: connection.peerAddress)
        // The clocks start at once: a peer that never sends a byte is as slow a header
        // as one that sends a byte a minute.
        messageStart = max(Monotonic.now(), 1)
        if let limit = timeouts.limit(headerComplete: false) { connection.setDeadline(after: limit) }
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        guard !failed else { return bytes.count }
        var routingError: MessageError?
        let service = self.service
        let consumed: Int
        do throws(MessageError) {
            consumed = try decoder.decode(bytes) { message in
                do throws(MessageError) {
                    let routed = try service.router.dispatch(message, limits: limits)
                    logRequest(message, connection)
                    service.counters.requests += 1
                    let sequence = order.begin()
                    switch routed {
                    case .answer(let response):
                        if order.isNext(sequence) {
                            service.send(response, on: connection)
                            order.wrote()
                        } else {
                            order.park(sequence, response)
                        }
                    case .pending(let handler, let request):
                        let work = Router.work(
                            handler, request, RequestContext(peer: connection.peerAddress, header: message.header))
                        // Stops decoding at the limit; the rest is offered again on resume.
                        if !start(work, sequence: sequence, on: connection) { return false }
                    }
                    return connection.isOpen
                } catch {
                    routingError = error
                    return false
                }
            }
        } catch {
            reject(error, on: connection)
            return bytes.count
        }
        if let routingError {
            reject(routingError, on: connection)
            return bytes.count
        }
        // Complete requests left for after the pause are not a slow message.
        if pausedForInFlight { return consumed }
        let incomplete = consumed < bytes.count
        guard reserveMemory(incomplete: incomplete, connection) else { return bytes.count }
        trackDeadlines(incomplete: incomplete, newMessage: consumed > 0, connection)
        return consumed
    }

    /// Once a header announces a message that has not all arrived, reserves its size in
    /// the server's memory budget — or, if the budget cannot cover it now, refuses it
    /// at once rather than let many large messages fill memory together. Returns false
    /// after refusing.
    private func reserveMemory(incomplete: Bool, _ connection: Connection) -> Bool {
        let wanted = incomplete ? decoder.awaitedMessageSize ?? 0 : 0
        guard wanted != reservedSize else { return true }
        guard connection.reserveInput(wanted) else {
            service.counters.refusedForMemory += 1
            service.log(.warning, "No memory for a \(wanted)-byte message from \(peer(connection)); closing", peer: connection.peerAddress)
            failAndLinger(
                with: .error("server busy: no memory for a message of \(wanted) bytes now; try again later"),
                on: connection)
            return false
        }
        reservedSize = wanted
        return true
    }

    /// Keeps the deadline of the message at the front: its header within the header
    /// timeout, all of it within the message timeout, both counted from its start.
    private func trackDeadlines(incomplete: Bool, newMessage: Bool, _ connection: Connection) {
        guard incomplete else {
            if messageStart != 0 {
                messageStart = 0
                connection.clearDeadline()
            }
            return
        }
        guard let limit = timeouts.limit(headerComplete: decoder.isAwaitingContent) else {
            connection.clearDeadline()
            return
        }
        let now = max(Monotonic.now(), 1)
        if newMessage || messageStart == 0 { messageStart = now }
        let elapsed = Duration.nanoseconds(Int64(clamping: now - messageStart))
        connection.setDeadline(after: max(limit - elapsed, .zero))
    }

    /// A peer trickled a header, or a whole message, for longer than allowed.
    func connectionDeadlinePassed(_ connection: Connection) {
        service.counters.timeouts += 1
        let headerLate = !decoder.isAwaitingContent && timeouts.limit(headerComplete: false) == timeouts.header
        let (what, limit) = headerLate ? ("request header", timeouts.header) : ("request", timeouts.message)
        service.log(.warning, "\(headerLate ? "Header" : "Message") timeout for \(peer(connection)); closing", peer: connection.peerAddress)
        failAndLinger(
            with: .error("\(what) not complete within \(RequestTimeouts.text(limit)) s"), on: connection)
    }

    func connectionDidIdle(_ connection: Connection) {
        service.log(.info, "Idle timeout for \(peer(connection)); closing", peer: connection.peerAddress)
        connection.close()
    }

    /// Answers a protocol error once, then closes after the answer is sent.
    private func reject(_ error: MessageError, on connection: Connection) {
        service.counters.protocolErrors += 1
        service.log(.warning, "Protocol error from \(peer(connection)): \(error); closing", peer: connection.peerAddress)
        failAndLinger(with: .error(error.description), on: connection)
    }

    /// Sends `response` and closes gracefully: FIN after the response, then the peer's
    /// input is read and discarded for a moment. Closing with unread input would make
    /// the kernel send a reset, which can destroy the error response before the peer
    /// reads it.
    private func failAndLinger(with response: Response, on connection: Connection) {
        failed = true
        connection.clearDeadline()
        guard order.isIdle else {
            // Answers still to come go first; the error, then the close, after them.
            order.park(order.begin(), response)
            afterAnswers = .closeAfterError
            connection.pauseReading()
            return
        }
        service.send(response, on: connection)
        connection.closeGracefully(drainLimit: Self.linger)
    }

    /// How long a rejected connection is drained before it is closed.
    static let linger = Duration.seconds(2)

    func connectionDidReachEnd(_ connection: Connection) {
        if !failed {
            // End of stream in the middle of a message: the peer may still read, so it
            // hears about it. All input has been read, so the close sends no reset.
            do {
                try decoder.finish(remaining: connection.unconsumedInputBytes)
            } catch {
                service.log(.warning, "Protocol error from \(peer(connection)): \(error); closing", peer: connection.peerAddress)
                service.counters.protocolErrors += 1
                failed = true
                order.park(order.begin(), .error(error.description))
                writeReadyAnswers(on: connection)
            }
        }
        guard order.isIdle else {
            // The peer has finished sending but may still read: answer it first.
            afterAnswers = .close
            return
        }
        connection.close(afterFlush: true)
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        // It holds this handler: kept, it would never be freed.
        bound = nil
        cancelRunningActions()
        let why = error.map { " (\($0.reason))" } ?? ""
        service.log(.info, "Closing connection to \(peer(connection))\(why)", peer: connection.peerAddress)
    }

    private func logRequest(_ message: Message, _ connection: Connection) {
        guard service.log.enabled(.info) else { return }
        if case .json = message.header.contentType, let request = try? Router.decodeJSONContent(message, limits: limits) {
            service.log(.info, "Received request \(JSONWriter.text(request)) from \(peer(connection))", peer: connection.peerAddress)
        } else {
            service.log(.info, "Received \(message.header.contentType) request from \(peer(connection))", peer: connection.peerAddress)
        }
    }

    func peer(_ connection: Connection) -> String {
        connection.peerDescription
    }
}
