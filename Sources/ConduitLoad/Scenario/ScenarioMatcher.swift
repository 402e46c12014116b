import Conduit

/// Checks one connection's answers in a scenario: cuts them from the stream with the
/// scenario's framing and holds each to the expectation of its own request's kind, in
/// order. Pure state, no sockets (tested on bytes). Follows the `ConnectionHandler`
/// contract like `ResponseMatcher`: bytes not consumed (an incomplete answer) are
/// offered again with the next ones; after a failure nothing more is judged.
struct ScenarioMatcher {
    /// What an answer (or a byte) turned out to be.
    enum Verdict: Equatable {
        /// The complete answer to the oldest request in flight, as expected.
        case correct
        /// The oldest request's answer, not as expected: the error kind to count.
        case wrong(String)
        /// Bytes arrived with no request in flight.
        case unexpectedBytes
        /// The framing cannot cut a message from these bytes (the reason).
        case badFraming(String)
    }

    private let plan: ScenarioPlan
    /// Kinds of the requests in flight, oldest first.
    private var kinds = TimestampQueue()
    /// True after any verdict but `correct`.
    private(set) var hasFailed = false

    init(_ plan: ScenarioPlan) { self.plan = plan }

    /// Requests sent and not yet judged.
    var inFlight: Int { kinds.count }

    /// A request of `kind` went out.
    mutating func requestSent(kind: Int) { kinds.push(UInt64(kind)) }

    /// Judges the first answer at the front of `bytes`, if it is all there.
    mutating func match(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, verdict: Verdict?) {
        judge(bytes, plan.framing.frame(bytes))
    }

    /// Judges what is left when the server has closed: an answer the close ends
    /// (`UntilCloseFraming`), or nothing.
    mutating func matchAtEnd(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, verdict: Verdict?) {
        judge(bytes, plan.framing.frameAtEnd(bytes))
    }

    private mutating func judge(_ bytes: UnsafeRawBufferPointer, _ length: FrameLength) -> (consumed: Int, verdict: Verdict?) {
        guard !bytes.isEmpty else { return (0, nil) }
        guard !hasFailed else { return (bytes.count, nil) }
        guard !kinds.isEmpty else { return fail(.unexpectedBytes, bytes) }
        switch length {
        case .needMore:
            return (0, nil)
        case .invalid(let reason):
            _ = kinds.pop()
            return fail(.badFraming(reason), bytes)
        case .complete(let count):
            let kind = Int(kinds.pop())
            let answer = UnsafeRawBufferPointer(rebasing: bytes.prefix(count))
            if plan.expectations[kind].check(answer) { return (count, .correct) }
            return fail(.wrong(plan.expectations[kind].failureKind), bytes)
        }
    }

    private mutating func fail(_ verdict: Verdict, _ bytes: UnsafeRawBufferPointer) -> (consumed: Int, verdict: Verdict?) {
        hasFailed = true
        return (bytes.count, verdict)
    }

    /// Forgets everything: a new connection starts clean (connection churn).
    mutating func reset() {
        kinds.removeAll()
        hasFailed = false
    }
}
