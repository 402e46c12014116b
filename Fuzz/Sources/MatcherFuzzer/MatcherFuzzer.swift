import ConduitApp
@_spi(Fuzzing) import ConduitLoad
import ConduitMessage
import FuzzSupport

/// libFuzzer entry point for the load tool's response matcher: what a server under
/// test sends back is the input. Layout: byte 0 chooses the answers (bits 0-1: search,
/// binary, or JSON objects with several keys), whether a request is sent after each
/// correct answer as in closed loop (bit 2) and the requests in flight at the start
/// (bits 3-5); byte 1 a chunk size, byte 2 a split point; the rest is the response
/// stream. Invariants, for both comparisons:
/// - the same verdicts, requests in flight and failure whether the stream arrives
///   whole, in two pieces or in chunks (a connection's reads can split it anywhere);
/// - at most one failure, the last verdict, and the in-flight count adds up;
/// - exact implies semantic: every answer exact comparison calls correct, semantic
///   comparison calls correct too (ours is one valid encoding of itself).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 3 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let answers = answerSets[Int(input[0] & 0b11) % answerSets.count]
    let refill = input[0] & 0b100 != 0
    let inFlight = Int(input[0] >> 3) & 0b111
    let chunk = 1 + Int(input[1]) % 32
    let stream = Array(input[3...])
    let split = stream.isEmpty ? 0 : Int(input[2]) * stream.count / 255
    var outcomes: [ResponseComparison: Outcome] = [:]
    for comparison in ResponseComparison.allCases {
        let expectations = comparison == .exact ? answers.exact : answers.semantic
        let whole = feed(expectations, inFlight, refill, [stream])
        let pieces = feed(expectations, inFlight, refill, [Array(stream[..<split]), Array(stream[split...])])
        let chunks = feed(expectations, inFlight, refill, stride(from: 0, to: stream.count, by: chunk).map {
            Array(stream[$0..<min($0 + chunk, stream.count)])
        })
        precondition(whole == pieces, "\(comparison): split at \(split) changed \(whole) to \(pieces)")
        precondition(whole == chunks, "\(comparison): chunks of \(chunk) changed \(whole) to \(chunks)")
        let failures = whole.verdicts.filter { $0 != .correct }
        precondition(failures.count <= 1 && (failures.isEmpty || whole.verdicts.last != .correct), "a verdict after a failure")
        precondition(whole.hasFailed == !failures.isEmpty)
        let correct = whole.verdicts.count { $0 == .correct }
        let judged = correct + whole.verdicts.count { $0 == .wrong }
        precondition(whole.inFlight == inFlight + (refill ? correct : 0) - judged, "in-flight count off: \(whole)")
        outcomes[comparison] = whole
    }
    let exact = outcomes[.exact]!.verdicts
    let semantic = outcomes[.semantic]!.verdicts
    let exactCorrect = exact.prefix { $0 == .correct }.count
    precondition(
        semantic.count >= exactCorrect && semantic.prefix(exactCorrect).allSatisfy { $0 == .correct },
        "exact called \(exactCorrect) answers correct, semantic \(semantic)")
    return 0
}

/// What feeding a stream did.
struct Outcome: Equatable {
    var verdicts: [ResponseMatcher.Verdict] = []
    var inFlight = 0
    var hasFailed = false
}

/// Feeds `chunks` as a connection does (unconsumed bytes are offered again with the
/// next chunk), sending a request after each correct answer when `refill` is set.
func feed(_ expectations: ResponseExpectations, _ inFlight: Int, _ refill: Bool, _ chunks: [[UInt8]]) -> Outcome {
    var matcher = ResponseMatcher(expectations)
    for _ in 0..<inFlight { matcher.requestSent() }
    var outcome = Outcome()
    var pending: [UInt8] = []
    for chunk in chunks {
        pending += chunk
        var offset = 0
        while offset < pending.count {
            let step = pending.withUnsafeBytes { matcher.match(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            precondition(step.consumed <= pending.count - offset, "consumed more than given")
            offset += step.consumed
            guard let verdict = step.verdict else { break }
            outcome.verdicts.append(verdict)
            if verdict == .correct && refill { matcher.requestSent() }
        }
        pending.removeFirst(offset)
    }
    outcome.inFlight = matcher.inFlight
    outcome.hasFailed = matcher.hasFailed
    return outcome
}

/// One set of answers, prepared for both comparisons.
struct AnswerSet: Sendable {
    let exact: ResponseExpectations
    let semantic: ResponseExpectations

    init(_ responses: [[UInt8]]) {
        exact = ResponseExpectations(responses: responses, comparison: .exact)
        semantic = ResponseExpectations(responses: responses, comparison: .semantic)
        precondition(semantic.comparison == .semantic, "every answer is a message")
    }
}

/// The tutorial server's answers, computed through the router from the requests the
/// load tool sends, and JSON answers with several keys (for object key order).
let answerSets: [AnswerSet] = {
    func answer(_ request: AppRequest) -> [UInt8] {
        var decoder = MessageDecoder()
        var out: [UInt8] = []
        _ = request.encoded().withUnsafeBytes { bytes in
            try! decoder.decode(bytes) { message in
                try! Router.tutorial().route(message).encode(into: &out)
                return false
            }
        }
        return out
    }
    func object(_ members: [(String, JSONValue)]) -> [UInt8] {
        var out: [UInt8] = []
        try! Response.result(.object(members)).encode(into: &out)
        return out
    }
    return [
        AnswerSet(["morpheus", "ring", "🐶"].map { answer(AppRequest(action: "search", value: $0)) }),
        AnswerSet(["abcdefghijklmnop", "bcdefghijklmnopq", "cdefghijklmnopqr"].map { answer(AppRequest(action: "binary", value: $0)) }),
        AnswerSet([
            object([("a", .number("1")), ("b", .array([.bool(true), .null])), ("c", .string("é\u{1F430}"))]),
            object([("x", .object([("y", .number("-2.5e3")), ("z", .string(""))])), ("w", .number("0"))]),
        ]),
    ]
}()

/// SwiftPM links an executable's entry point under this name; hand over to libFuzzer.
@_cdecl("MatcherFuzzer_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzOneInput(data, size)
    }
}
