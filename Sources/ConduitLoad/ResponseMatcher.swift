import ConduitMessage
import Glibc

/// Checks one connection's stream of response bytes against the answers its requests
/// must get, in order: pure state, no sockets, so it is tested and fuzzed on bytes.
///
/// Feed it what arrives with `match`, which follows the `ConnectionHandler` contract: it
/// consumes bytes from the front and stops at the first verdict; bytes it did not
/// consume must be offered again, followed by the next ones. Verdicts do not depend on
/// how the stream is split.
///
/// Exact comparison allocates nothing: it compares each chunk with `memcmp` where it
/// lands in the expected answer, so a wrong byte is found as soon as it arrives.
/// Semantic comparison frames each response with `MessageDecoder` (consuming whole
/// messages only, so the connection keeps an incomplete one) and decides when it is
/// complete. After a `wrong` or `unexpectedBytes` verdict the stream is out of step and
/// nothing after it can be judged: the matcher consumes the rest without verdicts.
///
/// SPI for the same reason as `ResponseExpectations`.
@_spi(Fuzzing) public struct ResponseMatcher {
    /// What a response (or a byte) turned out to be.
    public enum Verdict: Equatable, Sendable {
        /// The complete, correct answer to the oldest request in flight.
        case correct
        /// Not the answer to the oldest request in flight (that request has had its answer).
        case wrong
        /// Bytes arrived with no request in flight.
        case unexpectedBytes
    }

    private let expectations: ResponseExpectations
    /// The semantic comparison's framing, boxed: a decoder is ~100 bytes and a load
    /// process may hold 100,000 matchers, most of them exact.
    private let framing: Framing?
    /// Requests sent and not yet judged.
    public private(set) var inFlight = 0
    /// Requests sent so far; the next one's sequence number.
    public private(set) var sent = 0
    /// The variant of the oldest request in flight (its sequence number modulo the variants).
    private var oldestVariant = 0
    /// Exact comparison: bytes of the current answer already matched.
    private var matched = 0
    /// True after a `wrong` or `unexpectedBytes` verdict.
    public private(set) var hasFailed = false

    private final class Framing {
        var decoder = MessageDecoder()
    }

    /// A matcher for a new connection: nothing sent, nothing in flight.
    public init(_ expectations: ResponseExpectations) {
        self.expectations = expectations
        framing = expectations.semantic == nil ? nil : Framing()
    }

    /// Counts one more request in flight and returns its sequence number (which
    /// request variant to send: the number modulo the variants).
    @discardableResult
    public mutating func requestSent() -> Int {
        defer { sent += 1 }
        inFlight += 1
        return sent
    }

    /// Judges bytes from the front of `bytes`: returns how many it consumed and the
    /// verdict it reached, if any (then call again with the rest). With no verdict,
    /// either everything was consumed or the rest is an incomplete message to offer
    /// again with more bytes.
    public mutating func match(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, verdict: Verdict?) {
        guard !bytes.isEmpty else { return (0, nil) }
        guard !hasFailed else { return (bytes.count, nil) }
        guard inFlight > 0 else { return fail(.unexpectedBytes, bytes) }
        guard let framing, let answers = expectations.semantic else { return matchExact(bytes) }
        let answer = answers[oldestVariant]
        framing.decoder.limits = answer.limits
        var verdict: Verdict?
        let consumed: Int
        do {
            consumed = try framing.decoder.decode(bytes) { message in
                verdict = answer.accepts(message) ? .correct : .wrong
                return false
            }
        } catch {
            // Not a message at all (bad header, a length over the answer's limits).
            return fail(.wrong, bytes)
        }
        switch verdict {
        case .correct?: return (consumed, answered())
        case nil: return (consumed, nil)
        default: return fail(.wrong, bytes)
        }
    }

    private mutating func matchExact(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, verdict: Verdict?) {
        let take = expectations.exact[oldestVariant].withUnsafeBytes { expected in
            let take = min(expected.count - matched, bytes.count)
            return memcmp(expected.baseAddress! + matched, bytes.baseAddress!, take) == 0 ? take : nil
        }
        guard let take else { return fail(.wrong, bytes) }
        matched += take
        guard matched == expectations.exact[oldestVariant].count else { return (take, nil) }
        matched = 0
        return (take, answered())
    }

    /// The oldest request has its correct answer; the next one's is due.
    private mutating func answered() -> Verdict {
        inFlight -= 1
        oldestVariant += 1
        if oldestVariant == expectations.exact.count { oldestVariant = 0 }
        return .correct
    }

    /// Ends judging: the verdict, with everything consumed. A wrong answer is the
    /// oldest request's (it counts as judged); stray bytes belong to no request.
    private mutating func fail(_ verdict: Verdict, _ bytes: UnsafeRawBufferPointer) -> (consumed: Int, verdict: Verdict?) {
        if verdict == .wrong { inFlight -= 1 }
        hasFailed = true
        return (bytes.count, verdict)
    }
}
