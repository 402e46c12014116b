import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Testing

/// The content fuzz target's inputs (Fuzz/{seeds,corpus,regressions}/content) replayed
/// with its invariants (Fuzz/Sources/ContentFuzzer): a parsed value written again parses
/// back to the same value and bytes; the router answers a `text/json` request exactly
/// when its content is a JSON object, and every answer, or the error answer, encodes to
/// one message that reads back as the same response.
@Suite("Content fuzz corpus")
struct ContentCorpusTests {
    @Test func corpusIsThere() {
        #expect(FuzzInputs.paths("content", in: ["seeds"]).count >= 10)
        #expect(FuzzInputs.paths("content", in: ["corpus"]).count >= 50, "the minimized corpus of Fuzz/corpus/content")
    }

    /// Every input in one test, so a run prints one line for the corpus, not one per file.
    @Test func invariantsHoldForEveryInput() throws {
        for path in FuzzInputs.paths("content") {
            do { try invariantsHold(path: path) } catch { Issue.record("\(path): \(error)") }
        }
    }

    func invariantsHold(path: String) throws {
        let bytes = try FuzzInputs.bytes(path)
        if let value = try? JSONParser.parse(bytes) {
            let written = JSONWriter.encode(value)
            let again = try JSONParser.parse(written)
            #expect(again == value, "\(path)")
            #expect(JSONWriter.encode(again) == written, "\(path)")
        }
        let isObject: Bool
        if case .object? = try? JSONParser.parse(bytes) { isObject = true } else { isObject = false }
        var stream: [UInt8] = []
        try bytes.withUnsafeBytes { try MessageEncoder.append(contentType: .json, contentEncoding: "utf-8", content: $0, to: &stream) }
        for response in try routed(stream, limits: MessageLimits(maxHeaderBytes: 65_535, maxContentLength: 1 << 20)) {
            if case .failure(let error) = response {
                #expect(!isObject, "\(path): refused a JSON object: \(error)")
                guard case .invalidContent = error else {
                    Issue.record("\(path): refused utf-8 JSON for \(error)")
                    continue
                }
            } else {
                #expect(isObject, "\(path): answered content that is not a JSON object")
            }
        }
        // The input as a stream of messages, as a server reads it.
        _ = try routed(bytes, limits: MessageLimits(maxHeaderBytes: 4096, maxContentLength: 1 << 16))
    }

    /// Routes every message in `bytes`, checks that each answer (or error answer) reads
    /// back as itself, and returns what the router said.
    func routed(_ bytes: [UInt8], limits: MessageLimits) throws -> [Result<Response, MessageError>] {
        var decoder = MessageDecoder(limits: limits)
        var results: [Result<Response, MessageError>] = []
        let router = Router.tutorial()
        let decoded = bytes.withUnsafeBytes { buffer in
            Result { () throws(MessageError) in
                try decoder.decode(buffer) { message in
                    results.append(Result { () throws(MessageError) in try router.route(message) })
                    return true
                }
            }
        }
        var answers = results.map { (try? $0.get()) ?? .error("\($0)") }
        if case .failure(let error) = decoded { answers.append(.error(error.description)) }
        for answer in answers { try expectReadsBack(answer) }
        return results
    }

    func expectReadsBack(_ response: Response) throws {
        var out: [UInt8] = []
        try response.encode(into: &out)
        var decoder = MessageDecoder(limits: MessageLimits(maxHeaderBytes: 65_535, maxContentLength: 1 << 24))
        var back: [Response] = []
        let consumed = try out.withUnsafeBytes { buffer in
            try decoder.decode(buffer) { message in
                back.append((try? Response.decode(message)) ?? .binary(contentType: "undecodable", content: []))
                return true
            }
        }
        #expect(consumed == out.count)
        #expect(back == [response])
    }
}
