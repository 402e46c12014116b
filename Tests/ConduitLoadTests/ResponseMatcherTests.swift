import ConduitApp
@_spi(Fuzzing) import ConduitLoad
import ConduitMessage
import Testing

/// The response matcher on bytes, without sockets: what each comparison accepts, and
/// that no way of splitting the stream changes a verdict.
@Suite("Response matcher")
struct ResponseMatcherTests {
    static let search = WorkloadMessages(workload: .search, size: 64)
    static let binary = WorkloadMessages(workload: .binary, size: 64)

    @Test(arguments: ResponseComparison.allCases)
    func ourOwnAnswersAreCorrectInTurn(comparison: ResponseComparison) {
        for messages in [Self.search, Self.binary] {
            var m = matcher(messages.responses, comparison, inFlight: 5)
            let stream = (0..<5).flatMap { messages.response($0) }
            #expect(verdicts(&m, [stream]) == Array(repeating: .correct, count: 5))
            #expect(m.inFlight == 0)
        }
    }

    /// A duplicate is out of step: it is not the next request's answer.
    @Test(arguments: ResponseComparison.allCases)
    func aDuplicateAnswerIsWrong(comparison: ResponseComparison) {
        var m = matcher(Self.search.responses, comparison, inFlight: 2)
        let first = Self.search.response(0)
        #expect(verdicts(&m, [first + first]) == [.correct, .wrong])
        #expect(m.hasFailed)
        // Nothing after a wrong answer is judged: the stream is out of step.
        #expect(verdicts(&m, [Self.search.response(1)]) == [])
    }

    @Test(arguments: ResponseComparison.allCases)
    func bytesWithNoRequestInFlightAreUnexpected(comparison: ResponseComparison) {
        var idle = matcher(Self.search.responses, comparison, inFlight: 0)
        #expect(verdicts(&idle, [Self.search.response(0)]) == [.unexpectedBytes])
        var one = matcher(Self.search.responses, comparison, inFlight: 1)
        #expect(verdicts(&one, [Self.search.response(0) + [0]]) == [.correct, .unexpectedBytes])
        #expect(one.inFlight == 0)
    }

    /// The same answers as our server's, encoded the way another valid server might.
    static var reencodedSearchAnswers: [[UInt8]] {
        let dog = Array(#"{"result":"🐾 Playing ball! 🏐"}"#.utf8)
        return [
            // Header keys reordered, no spaces, big-endian byte order.
            reencoded(json: #"{"result": "Follow the white rabbit. 🐰"}"#),
            // Content with pretty-printing and ASCII escapes (Python's ensure_ascii=True).
            reencoded(json: "{\n  \"result\" : \"In the caves beneath the Misty Mountains. \\ud83d\\udc8d\"\n}"),
            // An extra header key, `utf8` spelled differently, whitespace around the header.
            frame(
                header: #" { "content-type" : "text/json", "x-served-by": ["py", 3], "content-length": \#(dog.count), "byteorder": "little", "content-encoding": "UTF8" } "#,
                content: dog),
        ]
    }

    @Test func reencodedAnswersAreWrongExactlyAndCorrectByMeaning() {
        let stream = Self.reencodedSearchAnswers.flatMap { $0 }
        var exact = matcher(Self.search.responses, .exact, inFlight: 3)
        #expect(verdicts(&exact, [stream]) == [.wrong])
        var semantic = matcher(Self.search.responses, .semantic, inFlight: 3)
        #expect(verdicts(&semantic, [stream]) == [.correct, .correct, .correct])
    }

    /// JSON content is compared as data: the order of an object's keys is free.
    @Test func reorderedContentKeys() {
        let ours = MessageEncoder.jsonMessage(
            .object([("result", .string("ok")), ("count", .number("10")), ("tags", .array([.bool(true), .null]))]))
        let theirs = reencoded(json: #"{"tags": [true, null], "count": 1.0e1, "result": "ok"}"#)
        var exact = matcher([ours], .exact, inFlight: 1)
        #expect(verdicts(&exact, [theirs]) == [.wrong])
        var semantic = matcher([ours], .semantic, inFlight: 1)
        #expect(verdicts(&semantic, [theirs]) == [.correct])
    }

    /// Answers that are not the answer are wrong however they are compared.
    @Test(arguments: ResponseComparison.allCases)
    func trulyWrongAnswersAreWrongInBothModes(comparison: ResponseComparison) throws {
        var binaryAnswer: [UInt8] = []
        try Response.binary(contentType: BinaryResponder.contentType, content: Array("First 10 bytes of request: abcdefghiX".utf8))
            .encode(into: &binaryAnswer)
        var longer: [UInt8] = []
        try Response.binary(contentType: BinaryResponder.contentType, content: Array("First 10 bytes of request: abcdefghijk".utf8))
            .encode(into: &longer)
        let cases: [(WorkloadMessages, [UInt8])] = [
            (Self.search, reencoded(json: #"{"result": "Follow the white rabbit."}"#)),  // other text
            (Self.search, reencoded(json: #"{"result": "Follow the white rabbit. 🐰", "extra": 1}"#)),  // another object
            (Self.search, reencoded(json: #"["result", "Follow the white rabbit. 🐰"]"#)),  // not an object
            (Self.search, reencoded(json: #"{"result": "Follow the white rabbit. 🐰"#)),  // not JSON
            (Self.search, message(type: "text/plain", encoding: "utf-8", #"{"result": "Follow the white rabbit. 🐰"}"#)),  // another content type
            (Self.search, message(type: "text/json", encoding: "latin-1", #"{"result": "Follow the white rabbit. 🐰"}"#)),  // an encoding the client cannot read
            (Self.search, frame(header: #"{"content-type": "text/json"}"#, content: [])),  // required keys missing
            (Self.binary, binaryAnswer),  // one byte of binary content differs
            (Self.binary, longer),  // a longer binary content
            (Self.search, Self.search.response(1)),  // the answer to another request
        ]
        for (index, (messages, answer)) in cases.enumerated() {
            var m = matcher(messages.responses, comparison, inFlight: 1)
            #expect(verdicts(&m, [answer]) == [.wrong], "case \(index)")
            #expect(m.inFlight == 0)
        }
    }

    /// Semantic comparison judges a binary answer whose length is not ours as soon as
    /// its header arrives, before any content: a broken server cannot make it buffer.
    @Test func aBinaryLengthOtherThanOursIsWrongFromTheHeader() {
        let header = #"{"byteorder": "little", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": 1000000}"#
        var m = matcher(Self.binary.responses, .semantic, inFlight: 1)
        #expect(verdicts(&m, [frame(header: header, content: [])]) == [.wrong])
    }

    /// Whole, split in two at every byte, and one byte at a time: the same verdicts.
    @Test(arguments: ResponseComparison.allCases)
    func splitAtEveryByteBoundary(comparison: ResponseComparison) {
        let streams: [(WorkloadMessages, [UInt8], Int)] = [
            (Self.search, (0..<3).flatMap { Self.search.response($0) }, 3),
            (Self.binary, (0..<4).flatMap { Self.binary.response($0) }, 4),
            (Self.search, Self.reencodedSearchAnswers.flatMap { $0 } + Self.search.response(0), 4),
            (Self.search, Self.search.response(0) + Self.search.response(0), 2),
            (Self.search, Self.search.response(0) + Self.search.response(1), 1),
        ]
        for (index, (messages, stream, inFlight)) in streams.enumerated() {
            var whole = matcher(messages.responses, comparison, inFlight: inFlight)
            let expected = verdicts(&whole, [stream])
            for split in 0...stream.count {
                var m = matcher(messages.responses, comparison, inFlight: inFlight)
                let got = verdicts(&m, [Array(stream[..<split]), Array(stream[split...])])
                #expect(got == expected, "stream \(index) split at \(split)")
            }
            var bytewise = matcher(messages.responses, comparison, inFlight: inFlight)
            #expect(verdicts(&bytewise, stream.map { [$0] }) == expected, "stream \(index) byte by byte")
        }
    }

    /// Echo answers are raw bytes: asking for semantic comparison compares them exactly.
    @Test func echoIsAlwaysExact() {
        let echo = WorkloadMessages(workload: .echo, size: 64)
        #expect(ResponseExpectations(responses: echo.responses, comparison: .semantic).comparison == .exact)
        #expect(ResponseExpectations(responses: Self.search.responses, comparison: .semantic).comparison == .semantic)
        var m = matcher(echo.responses, .semantic, inFlight: 2)
        #expect(verdicts(&m, [echo.response(0) + echo.response(0)]) == [.correct, .wrong])
    }
}
