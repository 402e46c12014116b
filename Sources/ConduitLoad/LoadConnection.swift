import Conduit
import Glibc

/// One load connection: sends requests, has its matcher judge every answer (a
/// `ResponseMatcher` against the built-in workload's one correct answer, or a
/// `ScenarioMatcher` by the scenario's framing and expectations), and records each
/// latency in its worker's histograms. With `requestsPerConnection` it closes after that
/// many answers and connects again.
///
/// Loop-confined, like its worker: the hot properties are `@exclusivity(unchecked)`, as
/// the transport's are (the dynamic checks were a quarter of the instructions of a
/// pipelined run).
final class LoadConnection: ConnectionHandler {
    /// Its worker, which outlives every connection it makes (`unowned(unsafe)`: a checked
    /// `unowned` costs a strong retain and release at each use).
    unowned(unsafe) let worker: LoadWorker
    /// Its number in the run (a template's `{conn}`).
    let number: Int
    private(set) var connection: Connection?
    /// Intended send times of requests in flight (equal to the actual ones in closed loop).
    @exclusivity(unchecked) private var intended = TimestampQueue()
    /// Actual send times of requests in flight.
    @exclusivity(unchecked) private var actual = TimestampQueue()
    /// The built-in workload's matcher: which request variant goes out next and which
    /// answer is due (exactly or by meaning, as the run compares).
    @exclusivity(unchecked) private var matcher: ResponseMatcher?
    /// The run's scenario, if it has one (the worker's, held here to reach it directly).
    private let plan: ScenarioPlan?
    /// The scenario's matcher, its request context and a reused request buffer.
    @exclusivity(unchecked) private var scenarioMatcher: ScenarioMatcher?
    @exclusivity(unchecked) private var context: RenderContext
    private let requestBuffer = RequestBuffer()
    @exclusivity(unchecked) private(set) var isUp = false
    private(set) var isFinished = false
    /// Connects tried again after finding a Unix server's accept queue full.
    private(set) var connectRetries = 0
    private var connectOptions = ConnectOptions()
    /// When the current connect started.
    private var connectStarted: UInt64 = 0
    /// Requests sent on the current connection (for `requestsPerConnection`).
    @exclusivity(unchecked) private var sentHere = 0
    /// `LoadOptions.requestsPerConnection`, or `Int.max`: read at every send and answer,
    /// so not through the options (a copy of the whole struct each time).
    private let requestLimit: Int
    /// Closing after its last answer, to connect again.
    private var recycling = false
    /// Its first connect has succeeded or failed (the worker's "all settled" counts
    /// each connection once, not each reconnect).
    var hasSettled = false
    /// An answer has come on this connection (counted once, for "answered at least once").
    var hasBeenAnswered = false
    /// In its worker's queue of connections with room for a request (open loop).
    var isOffered = false

    init(worker: LoadWorker, number: Int) {
        self.worker = worker
        self.number = number
        requestLimit = worker.options.requestsPerConnection ?? Int.max
        context = RenderContext(connection: number, seed: UInt64(number) &* 0x9E37_79B9_7F4A_7C15 ^ Monotonic.now())
        plan = worker.scenario
        if let plan {
            scenarioMatcher = ScenarioMatcher(plan)
        } else {
            matcher = ResponseMatcher(worker.expectations)
        }
    }

    var inFlight: Int { actual.count }

    /// Room for one more request under the connection's answer budget.
    var canSend: Bool {
        isUp && !recycling && sentHere < requestLimit
    }

    func start(to address: SocketAddress, options: ConnectOptions) {
        connectOptions = options
        connectStarted = Monotonic.now()
        do {
            connection = try Connection.connect(to: address, on: worker.loop, options: options, handler: self)
        } catch {
            isFinished = true
            worker.connectionFailed(self, kind: LoadErrors.connect(error, to: address))
        }
    }

    /// Connects again after a connect failed (see `LoadWorker.connectionFailed`).
    func retryConnect() {
        connectRetries += 1
        isFinished = false
        start(to: worker.target, options: connectOptions)
    }

    /// Sends one request meant to go out at `intendedTime`.
    func send(intendedTime: UInt64, now: UInt64) {
        guard let connection, canSend else { return }
        intended.push(intendedTime)
        actual.push(now)
        worker.stats.sent += 1
        sentHere += 1
        if matcher != nil {
            worker.messages.request(matcher!.requestSent()).withUnsafeBytes { connection.write($0) }
            return
        }
        guard let plan else { return }
        let kind = plan.kind(sequence: context.sequence, using: &context.random)
        scenarioMatcher!.requestSent(kind: kind)
        plan.withRequest(kind, &context, buffer: requestBuffer) { connection.write($0) }
        context.sequence += 1
    }

    func connectionDidOpen(_ connection: Connection) {
        isUp = true
        worker.connectionUp(self, connectNanoseconds: Monotonic.now() &- connectStarted, tls: connection.tlsDetails)
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        guard matcher != nil else { return receiveScenarioAnswers(bytes, atEnd: false) }
        let wrong = worker.expectations.comparison == .exact ? LoadErrors.wrongResponse : LoadErrors.wrongAnswer
        return receiveAnswers(bytes, untilEmpty: true) { rest in
            let step = matcher!.match(rest)
            switch step.verdict {
            case nil: return (step.consumed, nil)
            case .correct: return (step.consumed, .correct)
            case .wrong:
                if worker.stats.firstWrongAnswer == nil {
                    worker.stats.firstWrongAnswer = Array(rest.prefix(min(step.consumed, 256)))
                }
                return (step.consumed, .failed(wrong))
            case .unexpectedBytes: return (step.consumed, .failed(LoadErrors.unexpectedBytes))
            }
        }
    }

    /// The scenario's answers at the front of `bytes` (at the end of the stream, all of
    /// what is left, which the close may end).
    private func receiveScenarioAnswers(_ bytes: UnsafeRawBufferPointer, atEnd: Bool) -> Int {
        receiveAnswers(bytes, untilEmpty: !atEnd) { rest in
            let step = atEnd ? scenarioMatcher!.matchAtEnd(rest) : scenarioMatcher!.match(rest)
            switch step.verdict {
            case nil: return (step.consumed, nil)
            case .correct: return (step.consumed, .correct)
            case .wrong(let kind): return (step.consumed, .failed(kind))
            case .badFraming(let reason): return (step.consumed, .failed(LoadErrors.badFraming(reason)))
            case .unexpectedBytes: return (step.consumed, .failed(LoadErrors.unexpectedBytes))
            }
        }
    }

    /// What a matcher made of the front of the input.
    private enum Outcome {
        /// The oldest request's answer, correct.
        case correct
        /// An error of this kind: the connection closes.
        case failed(String)
    }

    /// Judges answers from the front of `bytes` with `next` (consumed bytes, and an
    /// outcome or nil for "nothing complete"), counting each and sending the next request;
    /// returns the bytes consumed (an incomplete answer stays with the transport). With
    /// `untilEmpty` false, `next` is asked once more when nothing is left (the close may
    /// end an answer).
    private func receiveAnswers(
        _ bytes: UnsafeRawBufferPointer, untilEmpty: Bool,
        _ next: (UnsafeRawBufferPointer) -> (consumed: Int, outcome: Outcome?)
    ) -> Int {
        var offset = 0
        var now: UInt64 = 0
        while offset < bytes.count || !untilEmpty {
            let step = next(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            offset += step.consumed
            switch step.outcome {
            case nil:
                return offset
            case .correct:
                if now == 0 { now = Monotonic.now() }
                answered(now: now)
                guard isUp else { return bytes.count }
            case .failed(let kind):
                fail(kind)
                return bytes.count
            }
        }
        return offset
    }

    /// The oldest request in flight has its correct answer.
    private func answered(now: UInt64) {
        worker.responseCompleted(self, latency: now &- intended.pop(), serviceTime: now &- actual.pop(), now: now)
        if sentHere >= requestLimit, actual.isEmpty, isUp {
            recycle()
        }
    }

    func connectionDidReachEnd(_ connection: Connection) {
        // Closing after its last answer already: the server's close crossed ours.
        if recycling { return }
        if scenarioMatcher != nil {
            // An answer the close ends (until close), or nothing: what is left is judged.
            connection.withUnconsumedInput { _ = receiveScenarioAnswers($0, atEnd: true) }
            if recycling || !isUp { return }
        }
        fail(LoadErrors.closedByServer)
    }

    /// Every answer this connection was to carry is in: close, and connect again (the
    /// server closing after its answer is then normal, not an error).
    private func recycle() {
        recycling = true
        isUp = false
        worker.connectionRecycling(self)
        connection?.close()
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        self.connection = nil
        if recycling {
            recycling = false
            sentHere = 0
            scenarioMatcher?.reset()
            if !isFinished && worker.sending {
                start(to: worker.target, options: connectOptions)
            } else {
                isFinished = true
            }
            return
        }
        let wasUp = isUp
        isUp = false
        if !isFinished {
            isFinished = true
            if !wasUp {
                let target = worker.target
                worker.connectionFailed(
                    self, kind: error.map { LoadErrors.connect($0, to: target) } ?? LoadErrors.closedByServer)
            } else {
                if let error { recordFailure(LoadErrors.socket(error)) }
                abandonInFlight(LoadErrors.unansweredClosed)
                worker.connectionLost(self)
            }
        }
    }

    /// Closes after an error; requests still in flight count as unanswered.
    private func fail(_ kind: String) {
        guard !isFinished else { return }
        recordFailure(kind)
        isFinished = true
        isUp = false
        abandonInFlight(LoadErrors.unansweredClosed)
        worker.connectionLost(self)
        connection?.close()
    }

    /// Counts one error of `kind`. The oldest request in flight is the one it befell
    /// (a wrong answer is its answer; a close or reset is what it got instead), so it
    /// is taken off the queue: each request is then one error, never also
    /// "unanswered". With nothing in flight the failure is the connection's own.
    private func recordFailure(_ kind: String) {
        worker.stats.recordError(kind)
        if !actual.isEmpty {
            _ = intended.pop()
            _ = actual.pop()
        }
    }

    /// Counts every request in flight as an error of `kind` (nothing is dropped silently).
    func abandonInFlight(_ kind: String) {
        if !actual.isEmpty { worker.stats.recordError(kind, count: actual.count) }
        intended.removeAll()
        actual.removeAll()
    }

    /// Closes at the end of the run.
    func finish() {
        guard !isFinished else { return }
        isFinished = true
        isUp = false
        abandonInFlight(LoadErrors.unansweredAtEnd)
        connection?.close()
    }
}

/// The error kinds a load run reports (the keys of `LoadStats.errors`).
package enum LoadErrors {
    /// A response differed from the expected bytes.
    package static let wrongResponse = "wrong response (bytes differ from the expected answer)"
    /// A response that is not the expected answer even by meaning (`--compare
    /// semantic`): not a valid message, another content type, or other content.
    package static let wrongAnswer = "wrong response (not the expected answer: compared by meaning)"
    /// The scenario's framing could not cut an answer from what arrived (the reason).
    package static func badFraming(_ reason: String) -> String { "bad framing: \(reason)" }
    /// Bytes arrived while no request was in flight.
    package static let unexpectedBytes = "unexpected bytes with no request in flight"
    /// The server closed the connection: counted for the oldest request in flight (the
    /// one it left unanswered), or once for the connection if none was.
    package static let closedByServer = "connection closed by server"
    /// A request queued behind the one that failed (wrong answer, close, reset) when
    /// its connection closed.
    package static let unansweredClosed = "request unanswered: connection closed"
    /// A request still waiting for (the rest of) its response when the run ended.
    package static let unansweredAtEnd = "request unanswered at the end of the drain period"

    /// A connect refused: nothing listens at the target.
    package static let connectRefused = "connect: connection refused"
    /// A connect that found no free local port for the target.
    package static let noFreeLocalPort = "connect: no free local port (EADDRNOTAVAIL or EAGAIN)"
    /// A connect that found the process (or system) out of descriptors.
    package static let outOfDescriptors = "connect: out of file descriptors"
    /// A Unix connect that found the server's accept queue full: unlike TCP's, it is
    /// not retried by the kernel.
    package static let acceptQueueFull = "connect: the server's accept queue is full (EAGAIN)"
    /// A Unix connect to a path where there is no socket.
    package static let noSocket = "connect: no socket at the path"

    /// The kind for a failed connect to `target` (the front end adds advice for the
    /// system limits).
    package static func connect(_ error: SocketError, to target: SocketAddress) -> String {
        if !target.isIP {
            if error.code == EAGAIN { return acceptQueueFull }
            if error.code == ENOENT { return noSocket }
        }
        switch error.kind {
        case .connectionRefused: return connectRefused
        case .addressUnavailable where error.code == EADDRNOTAVAIL: return noFreeLocalPort
        case .outOfResources where error.code == EMFILE || error.code == ENFILE: return outOfDescriptors
        case _ where error.code == EAGAIN: return noFreeLocalPort
        default: return "connect: \(error.reason)"
        }
    }

    /// The kind for a socket error on an established connection (counted like
    /// `closedByServer`).
    package static func socket(_ error: SocketError) -> String { "\(error.operation): \(error.reason)" }
}
