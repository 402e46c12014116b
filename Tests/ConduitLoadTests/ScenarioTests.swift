import Conduit
import ConduitApp
@testable import ConduitLoad
import Foundation
import Testing

/// Request templates, framings and scenario files as text, and the scenario matcher on
/// bytes.
@Suite("Scenarios: templates, expectations, files")
struct ScenarioTests {
    static func render(_ text: String, connection: Int = 7, sequence: Int = 42) throws -> [UInt8] {
        let template = try RequestTemplate(parsing: text)
        var context = RenderContext(connection: connection, seed: 1)
        context.sequence = sequence
        let buffer = RequestBuffer()
        return withExtendedLifetime(buffer) { Array(template.program.render(&context, into: buffer)) }
    }

    @Test func templatesRenderFieldsAndLengths() throws {
        #expect(try Self.render("PING\\r\\n") == Array("PING\r\n".utf8))
        #expect(try RequestTemplate(parsing: "PING\\r\\n").fixedBytes == Array("PING\r\n".utf8))
        #expect(try Self.render("c{conn} s{seq}\\x00\\{\\}") == Array("c7 s42\0{}".utf8))
        // RESP: the length comes before the field it measures.
        let get = try Self.render("*2\r\n$3\r\nGET\r\n${len:k}\r\n{k=key:100-100}\r\n")
        #expect(get == Array("*2\r\n$3\r\nGET\r\n$3\r\n100\r\n".utf8))
        let set = String(decoding: try Self.render("${len:v}\r\n{v=random:12}"), as: UTF8.self)
        #expect(set.hasPrefix("$12\r\n") && set.utf8.count == 17 && set.dropFirst(5).allSatisfy { $0.isLowercase })
        // A binary length of several fields plus a constant (a memcached body).
        #expect(try Self.render("{len32be:a+b+8}{a=conn}{b=seq}") == [0, 0, 0, 11] + Array("742".utf8))
        #expect(try Self.render("{len16le:a}{a=random:300}").prefix(2) == [44, 1])
    }

    @Test func templateMistakesAreNamed() {
        for (text, words) in [
            ("{key:5-1}", "range"), ("{nope}", "unknown field"), ("{len:x}", "no one named"), ("abc{", "not closed"),
            ("\\q", "unknown escape"), ("\\x4", "two hex digits"), ("{len24be:a}{a=conn}", "unknown length"),
            ("{a=conn}{a=seq}", "used twice"), ("{key:1-9:pareto}", "distribution"),
        ] {
            #expect(throws: ScenarioError.self, "\(text)") { try RequestTemplate(parsing: text) }
            do {
                _ = try RequestTemplate(parsing: text)
            } catch {
                #expect(error.description.contains(words), "\(text): \(error)")
            }
        }
    }

    @Test func keysStayInTheirRangeAndZipfFavoursTheLowOnes() {
        var random = FastRandom(seed: 3)
        var uniformLow = 0
        var zipfLow = 0
        for _ in 0..<20_000 {
            let uniform = KeyDistribution.uniform.draw(in: 1...1000, using: &random)
            let zipf = KeyDistribution.zipf(0.99).draw(in: 1...1000, using: &random)
            #expect((1...1000).contains(uniform) && (1...1000).contains(zipf))
            if uniform <= 10 { uniformLow += 1 }
            if zipf <= 10 { zipfLow += 1 }
        }
        // Uniform: 1 % of draws in the first 10 keys; Zipf(0.99) over 1,000: about 38 %.
        #expect(uniformLow < 400)
        #expect(zipfLow > 5_000 && zipfLow < 10_000, "\(zipfLow)")
    }

    @Test func expectations() throws {
        func check(_ expectation: AnswerExpectation, _ text: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { expectation.check($0) }
        }
        #expect(check(.exact(Array("+OK\r\n".utf8)), "+OK\r\n"))
        #expect(!check(.exact(Array("+OK\r\n".utf8)), "+OK\r\n+"))
        #expect(check(.prefix(Array("VALUE".utf8)), "VALUE k 0 1\r\n"))
        #expect(!check(.prefix(Array("VALUE".utf8)), "VAL"))
        let pattern = try AnswerPattern("^\\$[0-9]+\r\n")
        #expect(check(.matches(pattern), "$3\r\nabc\r\n") && !check(.matches(pattern), "-ERR\r\n"))
        #expect(check(.notRESPError, ":1\r\n") && !check(.notRESPError, "-ERR wrong\r\n") && !check(.notRESPError, "!3\r\nbad\r\n"))
        #expect(throws: ScenarioError.self) { try AnswerPattern("(unclosed") }
    }

    @Test func matcherJudgesEachAnswerByItsOwnRequestsKind() {
        let scenario = Scenario(framing: DelimitedFraming(delimiter: "\r\n"), kinds: [
            RequestKind(name: "A", template: RequestTemplate(bytes: [1]), expectation: .exact(Array("a\r\n".utf8))),
            RequestKind(name: "B", template: RequestTemplate(bytes: [2]), expectation: .prefix(Array("b".utf8))),
        ], order: .inTurn)
        var matcher = ScenarioMatcher(ScenarioPlan(scenario))
        matcher.requestSent(kind: 0)
        matcher.requestSent(kind: 1)
        matcher.requestSent(kind: 1)
        let stream = Array("a\r\nbxx\r\nb".utf8)
        stream.withUnsafeBytes { bytes in
            #expect(matcher.match(bytes) == (3, .correct))
            #expect(matcher.match(UnsafeRawBufferPointer(rebasing: bytes[3...])) == (5, .correct))
            // An incomplete answer is left for the next read.
            #expect(matcher.match(UnsafeRawBufferPointer(rebasing: bytes[8...])) == (0, nil))
        }
        #expect(matcher.inFlight == 1)
        // An answer to a kind-A request that is not a's answer.
        matcher.requestSent(kind: 0)
        Array("b\r\nzz\r\n".utf8).withUnsafeBytes { bytes in
            #expect(matcher.match(bytes) == (3, .correct))
            let wrong = matcher.match(UnsafeRawBufferPointer(rebasing: bytes[3...]))
            #expect(wrong.verdict == .wrong(AnswerExpectation.exact([]).failureKind))
        }
        #expect(matcher.hasFailed)
    }

    @Test func matcherCountsStrayAndBadlyFramedBytes() {
        var matcher = ScenarioMatcher(ScenarioPlan(Scenario(framing: RESPFraming(), request: RequestTemplate(bytes: [1]))))
        #expect(Array("+OK\r\n".utf8).withUnsafeBytes { matcher.match($0).verdict } == .unexpectedBytes)
        matcher.reset()
        matcher.requestSent(kind: 0)
        #expect(Array("?\r\n".utf8).withUnsafeBytes { matcher.match($0).verdict } == .badFraming("a bad RESP type byte 0x3f"))
        var untilClose = ScenarioMatcher(ScenarioPlan(Scenario(framing: UntilCloseFraming(), request: RequestTemplate(bytes: [1]))))
        untilClose.requestSent(kind: 0)
        Array("whole answer".utf8).withUnsafeBytes { bytes in
            #expect(untilClose.match(bytes) == (0, nil))
            #expect(untilClose.matchAtEnd(bytes) == (12, .correct))
        }
    }

    @Test func weightedKindsFollowTheirWeights() {
        let kinds = [90.0, 10.0].enumerated().map { index, weight in
            RequestKind(name: "\(index)", weight: weight, template: RequestTemplate(bytes: [UInt8(index)]))
        }
        let plan = ScenarioPlan(Scenario(framing: LineFraming(), kinds: kinds))
        var random = FastRandom(seed: 11)
        let second = (0..<10_000).count { plan.kind(sequence: $0, using: &random) == 1 }
        #expect(second > 800 && second < 1_200, "\(second)")
        let inTurn = ScenarioPlan(Scenario(framing: LineFraming(), kinds: kinds, order: .inTurn))
        #expect((0..<4).map { inTurn.kind(sequence: $0, using: &random) } == [0, 1, 0, 1])
    }

    @Test func framingsAsText() throws {
        #expect(try FramingSpec.parse("resp") is RESPFraming)
        #expect(try FramingSpec.parse("app") is AppFraming)
        #expect((try FramingSpec.parse("crlf") as? DelimitedFraming)?.delimiter == [13, 10])
        #expect((try FramingSpec.parse("delimited:\\0,max=100") as? DelimitedFraming)?.maxLength == 100)
        #expect((try FramingSpec.parse("fixed:24") as? FixedLengthFraming)?.length == 24)
        let memcached = try #require(try FramingSpec.parse("length:4,offset=8,adjust=12") as? LengthPrefixedFraming)
        #expect(memcached.fieldOffset == 8 && memcached.fieldSize == 4 && memcached.adjustment == 12 && memcached.byteOrder == .big)
        let little = try #require(try FramingSpec.parse("length:2,le,counts-field") as? LengthPrefixedFraming)
        #expect(little.byteOrder == .little && little.countsField)
        for bad in ["length:3", "fixed:0", "http", "line,le", "length:4,offset=x", "delimited:", "resp,max=0"] {
            #expect(throws: ScenarioError.self, "\(bad)") { try FramingSpec.parse(bad) }
        }
    }

    @Test func scenarioFiles() throws {
        let text = #"""
            {"framing": "resp", "requests": [
              {"name": "GET", "weight": 90, "request": "*2\r\n$3\r\nGET\r\n${len:k}\r\n{k=key:1-1000:zipf}\r\n"},
              {"name": "SET", "weight": 10, "request": "*3\r\n$3\r\nSET\r\n${len:k}\r\n{k=key:1-1000}\r\n$2\r\nhi\r\n",
               "expect": {"exact": "+OK\\r\\n"}}
            ]}
            """#
        let scenario = try ScenarioFile.parse(Data(text.utf8))
        #expect(scenario.kinds.map(\.name) == ["GET", "SET"])
        #expect(scenario.kinds[0].expectation == .notRESPError)
        #expect(scenario.kinds[1].expectation == .exact(Array("+OK\r\n".utf8)))
        #expect(scenario.summary == "RESPFraming: GET 90%, SET 10%")
        for (bad, words) in [
            (#"{"requests": []}"#, "missing \"framing\""),
            (#"{"framing": "resp", "requests": []}"#, "empty"),
            (#"{"framing": "resp", "requests": [{"request": "{x}"}]}"#, "request 'request 1': unknown field"),
            (#"{"framing": "resp", "requests": [{"request": "a", "weight": 0}]}"#, "weight"),
            (#"{"framing": "resp", "requests": [{"request": "a", "expect": {"regex": "("}}]}"#, "regular expression"),
            (#"{"framing": "resp", "requests": [{"request": "a", "expect": "all"}]}"#, "expect is"),
            ("{", "not valid JSON"),
            (#"{"framing": "resp", "requests": [{"request": "a", "weigth": 2}]}"#, "unknown key \"weigth\" in request 1"),
            (#"{"framing": "resp", "request": []}"#, "unknown key \"request\""),
        ] {
            do {
                _ = try ScenarioFile.parse(Data(bad.utf8))
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.description.contains(words), "\(bad): \(error)")
            }
        }
    }
}

extension ScenarioTests {
    /// A binary length prefix holds NUL bytes: the expression still sees the text after it.
    @Test func regularExpressionsReadPastNULBytes() throws {
        let pattern = try AnswerPattern("(VALUE [a-z]+|MISSING)$")
        #expect(([0, 0, 0, 9] + Array("VALUE abc".utf8)).withUnsafeBytes { pattern.matches($0) })
        #expect(!([0, 0, 0, 9] + Array("VALUE ab1".utf8)).withUnsafeBytes { pattern.matches($0) })
    }
}
