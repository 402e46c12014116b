import Conduit
@testable import ConduitLoad
import ConduitApp
import ConduitTestSupport
import Testing

/// Answers each line with `OK ` and the line; with `closeAfter`, closes after that many
/// answers (as the tutorial's server does after one), and with `cutShort`, closes in the
/// middle of its first answer instead.
final class LineAnswerHandler: ConnectionHandler {
    let closeAfter: Int?
    let cutShort: Bool
    private var answered = 0
    init(closeAfter: Int? = nil, cutShort: Bool = false) {
        self.closeAfter = closeAfter
        self.cutShort = cutShort
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        var start = 0
        while let newline = bytes[start...].firstIndex(of: 0x0a) {
            if cutShort {
                connection.write(Array("OK par".utf8))
                connection.close(afterFlush: true)
                return bytes.count
            }
            connection.write(Array("OK ".utf8) + Array(bytes[start...newline]))
            start = newline + 1
            answered += 1
            if answered == closeAfter {
                connection.close(afterFlush: true)
                return bytes.count
            }
        }
        return start
    }
}

@Suite("Scenarios against servers on loopback")
struct ScenarioLoadTests {
    static func run(
        _ handler: @escaping @Sendable () -> ConnectionHandler, _ scenario: Scenario, _ change: (inout LoadOptions) -> Void = { _ in }
    ) throws -> LoadResult {
        let group = try EventLoopGroup(threads: 1)
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in handler() }
        return try LoadGenerator(options: options {
            $0.target = server.address
            $0.scenario = scenario
            change(&$0)
        }).run()
    }

    /// Made anew for each test, not kept in a static: a static's enum payload holds the
    /// pattern with its case in the pointer's spare bits, and LeakSanitizer then reports
    /// the compiled expression as leaked at exit.
    static var lines: Scenario {
        Scenario(
            framing: LineFraming(),
            request: try! RequestTemplate(parsing: "GET {k=key:1-100} c{conn} s{seq}\\n"),
            expectation: .matches(try! AnswerPattern("^OK GET [0-9]+ c[0-9] s[0-9]+\n$")))
    }

    @Test(arguments: IOBackend.allCases)
    func aLineProtocolPipelined(backend: IOBackend) throws {
        try requireUsable(backend)
        let result = try Self.run({ LineAnswerHandler() }, Self.lines) {
            $0.backend = backend
            $0.pipeline = 4
        }
        #expect(result.stats.errors.isEmpty, "\(result.stats.errors)")
        #expect(result.stats.requests > 100)
        #expect(result.stats.sent == result.stats.requests)
        #expect(result.scenario == "DelimitedFraming: request" || result.scenario == "LineFraming: request")
    }

    /// A server that closes after each answer, loaded one request per connection: every
    /// answer counts, no close is an error, and the connects are measured.
    @Test func oneRequestPerConnection() throws {
        let result = try Self.run({ LineAnswerHandler(closeAfter: 1) }, Self.lines) { $0.requestsPerConnection = 1 }
        #expect(result.stats.errors.isEmpty, "\(result.stats.errors)")
        #expect(result.stats.requests > 50)
        #expect(result.stats.connectionsRecycled >= result.stats.requests - 10)
        #expect(result.stats.connectLatency.totalCount == UInt64(result.stats.connectionsUp))
        #expect(result.stats.connectionsUp >= result.stats.requests)
        #expect(LoadReport.text(result).contains("connect latency:"))
    }

    /// Without churn, the same server's close is an error for the request it left
    /// unanswered: its FIN, or, when the next request reached the closed socket first,
    /// the reset the kernel answered it with (the ASan pass saw one of ten).
    @Test func aCloseAfterTheAnswerIsAnErrorWithoutChurn() throws {
        let result = try Self.run({ LineAnswerHandler(closeAfter: 1) }, Self.lines)
        #expect(result.stats.requests == 10)
        let resets = result.stats.errors.filter { $0.key.contains("reset") }.values.reduce(0, +)
        #expect(result.stats.errors[LoadErrors.closedByServer, default: 0] + resets == 10, "\(result.stats.errors)")
        #expect(result.stats.errorCount == 10, "\(result.stats.errors)")
    }

    /// A close in the middle of an answer is an error even with one request per connection.
    @Test func aCloseMidAnswerIsAnError() throws {
        let result = try Self.run({ LineAnswerHandler(cutShort: true) }, Self.lines) { $0.requestsPerConnection = 1 }
        #expect(result.stats.requests == 0)
        #expect(result.stats.errors[LoadErrors.closedByServer] == 10, "\(result.stats.errors)")
    }

    /// The answer is all the server sends before its close.
    @Test func untilCloseAnswers() throws {
        let scenario = Scenario(
            framing: UntilCloseFraming(), request: RequestTemplate(bytes: Array("hello\n".utf8)),
            expectation: .exact(Array("OK hello\n".utf8)))
        let result = try Self.run({ LineAnswerHandler(closeAfter: 1) }, scenario) { $0.requestsPerConnection = 1 }
        #expect(result.stats.errors.isEmpty, "\(result.stats.errors)")
        #expect(result.stats.requests > 50)
        var options = LoadOptions()
        options.target = .loopback(port: 1)
        options.scenario = scenario
        #expect(options.problem()?.option == "requestsPerConnection")
    }

    /// An expected answer shorter than the framed one (`OK y` without its newline) is
    /// judged by the framing: every answer is wrong, none passes for correct.
    @Test func aTooShortExpectationIsWrongNotHalfRight() throws {
        let scenario = Scenario(
            framing: LineFraming(), request: RequestTemplate(bytes: Array("y\n".utf8)), expectation: .exact(Array("OK y".utf8)))
        #expect(scenario.exactInTurn == nil)
        let result = try Self.run({ LineAnswerHandler() }, scenario)
        #expect(result.stats.requests == 0)
        #expect(result.stats.errors[LoadErrors.wrongResponse] == 10, "\(result.stats.errors)")
    }

    @Test func wrongAnswersCountByTheExpectationsKind() throws {
        let scenario = Scenario(
            framing: LineFraming(), request: RequestTemplate(bytes: Array("x\n".utf8)), expectation: .exact(Array("OK y\n".utf8)))
        let result = try Self.run({ LineAnswerHandler() }, scenario)
        #expect(result.stats.requests == 0)
        #expect(result.stats.errors[AnswerExpectation.exact([]).failureKind] == 10, "\(result.stats.errors)")
    }
}

/// The built-in workloads as scenarios: in turn they are judged without framing, as the
/// built-ins are; drawn at random, through the application framing and each request's
/// own expected answer. Both against the app server, with no error.
@Suite("Built-in workloads as scenarios")
struct BuiltInScenarioTests {
    @Test(arguments: [Scenario.Order.inTurn, .weighted], [Workload.search, .binary])
    func theAppServerAnswersEveryRequest(order: Scenario.Order, workload: Workload) throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.syncShutdown() }
        let server = try AppServer(group: group, address: .loopback(port: 0))
        var scenario = Scenario.workload(workload)
        scenario.order = order
        #expect((scenario.exactInTurn != nil) == (order == .inTurn))
        let result = try LoadGenerator(options: options {
            $0.target = server.address
            $0.scenario = scenario
            $0.pipeline = 3
        }).run()
        #expect(result.stats.errors.isEmpty, "\(result.stats.errors)")
        #expect(result.stats.requests > 50)
        #expect(result.stats.sent == result.stats.requests)
    }
}
