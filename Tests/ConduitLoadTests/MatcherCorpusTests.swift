import ConduitApp
@_spi(Fuzzing) import ConduitLoad
import ConduitMessage
import ConduitTestSupport
import Testing

/// The matcher fuzz target's inputs (Fuzz/{seeds,corpus,regressions}/matcher) replayed
/// with its invariants, so what the fuzzer found stays found without the fuzzer. The
/// input layout and the answer sets are the target's (Fuzz/Sources/MatcherFuzzer).
@Suite("Matcher fuzz corpus")
struct MatcherCorpusTests {
    /// The fuzz target's answers: the tutorial server's, computed through the router from
    /// the requests, and JSON objects with several keys.
    static let answerSets: [[[UInt8]]] = {
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
            ["morpheus", "ring", "🐶"].map { answer(AppRequest(action: "search", value: $0)) },
            ["abcdefghijklmnop", "bcdefghijklmnopq", "cdefghijklmnopqr"].map { answer(AppRequest(action: "binary", value: $0)) },
            [
                object([("a", .number("1")), ("b", .array([.bool(true), .null])), ("c", .string("é\u{1F430}"))]),
                object([("x", .object([("y", .number("-2.5e3")), ("z", .string(""))])), ("w", .number("0"))]),
            ],
        ]
    }()

    struct Outcome: Equatable {
        var verdicts: [ResponseMatcher.Verdict]
        var inFlight: Int
        var hasFailed: Bool
    }

    /// One input, decoded as the fuzz target decodes it.
    struct Case {
        let responses: [[UInt8]]
        let refill: Bool
        let inFlight: Int
        let chunk: Int
        let split: Int
        let stream: [UInt8]

        init?(_ input: [UInt8]) {
            guard input.count >= 3 else { return nil }
            responses = MatcherCorpusTests.answerSets[Int(input[0] & 0b11) % MatcherCorpusTests.answerSets.count]
            refill = input[0] & 0b100 != 0
            inFlight = Int(input[0] >> 3) & 0b111
            chunk = 1 + Int(input[1]) % 32
            stream = Array(input[3...])
            split = stream.isEmpty ? 0 : Int(input[2]) * stream.count / 255
        }

        func feed(_ comparison: ResponseComparison, _ chunks: [[UInt8]]) -> Outcome {
            var m = matcher(responses, comparison, inFlight: inFlight)
            var found: [ResponseMatcher.Verdict] = []
            var pending: [UInt8] = []
            for chunk in chunks {
                pending += chunk
                var offset = 0
                while offset < pending.count {
                    let step = pending.withUnsafeBytes { m.match(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
                    offset += step.consumed
                    guard let verdict = step.verdict else { break }
                    found.append(verdict)
                    if verdict == .correct && refill { m.requestSent() }
                }
                pending.removeFirst(offset)
            }
            return Outcome(verdicts: found, inFlight: m.inFlight, hasFailed: m.hasFailed)
        }

        func pieces(at split: Int) -> [[UInt8]] { [Array(stream[..<split]), Array(stream[split...])] }
    }

    @Test func corpusIsThere() {
        #expect(FuzzInputs.paths("matcher", in: ["seeds"]).count >= 10)
        #expect(FuzzInputs.paths("matcher", in: ["corpus"]).count >= 50, "the minimized corpus of Fuzz/corpus/matcher")
    }

    /// Every input: whole, in two pieces where the input says, and in its chunks, with
    /// exact-correct implying semantic-correct.
    /// Every input in one test, so a run prints one line for the corpus, not one per file.
    @Test func invariantsHoldForEveryInput() throws {
        for path in FuzzInputs.paths("matcher") {
            do { try invariantsHold(path: path) } catch { Issue.record("\(path): \(error)") }
        }
    }

    func invariantsHold(path: String) throws {
        guard let input = Case(try FuzzInputs.bytes(path)) else { return }
        var wholes: [ResponseComparison: Outcome] = [:]
        for comparison in ResponseComparison.allCases {
            let whole = input.feed(comparison, [input.stream])
            #expect(input.feed(comparison, input.pieces(at: input.split)) == whole, "\(path) \(comparison)")
            let chunks = stride(from: 0, to: input.stream.count, by: input.chunk).map {
                Array(input.stream[$0..<min($0 + input.chunk, input.stream.count)])
            }
            #expect(input.feed(comparison, chunks) == whole, "\(path) \(comparison)")
            wholes[comparison] = whole
        }
        let exactCorrect = wholes[.exact]!.verdicts.prefix { $0 == .correct }.count
        #expect(wholes[.semantic]!.verdicts.prefix(exactCorrect).allSatisfy { $0 == .correct }, "\(path)")
        #expect(wholes[.semantic]!.verdicts.count >= exactCorrect, "\(path)")
    }

    /// The hand-made seeds and the regressions split at every byte.
    @Test(arguments: FuzzInputs.paths("matcher", in: ["seeds", "regressions"]))
    func everySplitOfTheSeeds(path: String) throws {
        guard let input = Case(try FuzzInputs.bytes(path)) else { return }
        for comparison in ResponseComparison.allCases {
            let whole = input.feed(comparison, [input.stream])
            for split in 0...input.stream.count {
                #expect(input.feed(comparison, input.pieces(at: split)) == whole, "\(comparison) split at \(split)")
            }
        }
    }

    /// What the seeds are for: our answers are correct both ways; the same answers
    /// encoded otherwise are wrong exactly and correct by meaning; duplicates and
    /// unasked answers are wrong in both.
    @Test func theSeedsMeanWhatTheirNamesSay() throws {
        func outcome(_ name: String, _ comparison: ResponseComparison) throws -> [ResponseMatcher.Verdict] {
            try #require(Case(try FuzzInputs.bytes("seeds/matcher/\(name)"))).feed(comparison, [
                Case(try FuzzInputs.bytes("seeds/matcher/\(name)"))!.stream,
            ]).verdicts
        }
        for name in ["search_exact", "binary_exact"] {
            #expect(try outcome(name, .exact) == [.correct, .correct, .correct], "\(name)")
            #expect(try outcome(name, .semantic) == [.correct, .correct, .correct], "\(name)")
        }
        for name in ["search_reencoded", "binary_reencoded"] {
            #expect(try outcome(name, .exact) == [.wrong], "\(name)")
            #expect(try outcome(name, .semantic) == [.correct, .correct, .correct], "\(name)")
        }
        #expect(try outcome("objects_reencoded", .semantic) == [.correct, .correct, .correct, .correct])
        for comparison in ResponseComparison.allCases {
            #expect(try outcome("search_duplicate", comparison) == [.correct, .wrong])
            #expect(try outcome("search_unasked", comparison) == [.correct, .unexpectedBytes])
            #expect(try outcome("nothing_in_flight", comparison) == [.unexpectedBytes])
        }
    }
}
