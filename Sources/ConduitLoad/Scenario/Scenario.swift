import Conduit
import ConduitApp
import Foundation

/// A load workload for any TCP service: how its answers are framed, the kinds of request
/// to send (each with its weight, its template and what its answer must be) and how the
/// next kind is chosen. `conduit load --framing/--request/--expect` and `--scenario FILE`
/// build one; so can an embedder, for a protocol of their own, and run it with
/// `LoadOptions.scenario` through the same generator, report and files.
///
/// ```swift
/// // 90 % GET, 10 % SET on redis-server, keys Zipf-distributed.
/// var options = LoadOptions()
/// options.target = try SocketAddress.resolve("127.0.0.1:6379")
/// options.scenario = Scenario(framing: RESPFraming(), kinds: [
///     RequestKind(name: "GET", weight: 90,
///         template: try RequestTemplate(parsing: "*2\r\n$3\r\nGET\r\n${len:k}\r\n{k=key:1-1000:zipf}\r\n"),
///         expectation: .notRESPError),
///     RequestKind(name: "SET", weight: 10,
///         template: try RequestTemplate(parsing: "*3\r\n$3\r\nSET\r\n${len:k}\r\n{k=key:1-1000}\r\n$8\r\n{random:8}\r\n"),
///         expectation: .exact(Array("+OK\r\n".utf8))),
/// ])
/// let result = try LoadGenerator(options: options).run()
/// ```
public struct Scenario: Sendable {
    /// How the next request's kind is chosen.
    public enum Order: String, Sendable, Codable {
        /// At random, each kind as likely as its weight says.
        case weighted
        /// Each kind in turn, whatever the weights (the built-in workloads: neighbouring
        /// answers then differ, so an answer out of step is caught).
        case inTurn = "in-turn"
    }

    /// How the stream of answers is cut into messages.
    public var framing: any MessageFraming
    /// The kinds of request (at least one).
    public var kinds: [RequestKind]
    /// How the next kind is chosen.
    public var order: Order

    /// A scenario of `kinds` (at least one), chosen as `order` says.
    public init(framing: any MessageFraming, kinds: [RequestKind], order: Order = .weighted) {
        self.framing = framing
        self.kinds = kinds
        self.order = order
    }

    /// One kind of request: `request`'s bytes, answered as `expectation` says.
    public init(framing: any MessageFraming, request: RequestTemplate, expectation: AnswerExpectation = .anyAnswer) {
        self.init(framing: framing, kinds: [RequestKind(name: "request", template: request, expectation: expectation)])
    }

    /// What is wrong with it, if anything.
    public func problem() -> ScenarioError? {
        if kinds.isEmpty { return ScenarioError("a scenario needs at least one kind of request") }
        if let kind = kinds.first(where: { !($0.weight > 0) || !$0.weight.isFinite }) {
            return ScenarioError("the weight of '\(kind.name)' must be a positive number")
        }
        return nil
    }

    /// A built-in workload as a scenario: its request variants in turn, each with the
    /// one exact answer Conduit's app server (or an echo server) gives it, framed as the
    /// application protocol (echo: fixed length `size`).
    public static func workload(_ workload: Workload, size: Int = 64) -> Scenario {
        let messages = WorkloadMessages(workload: workload, size: size)
        let framing: any MessageFraming = workload == .echo ? FixedLengthFraming(length: size) : AppFraming()
        let kinds = zip(messages.requests, messages.responses).enumerated().map { index, pair in
            RequestKind(
                name: "\(workload.rawValue) \(index + 1)", template: RequestTemplate(bytes: pair.0),
                expectation: .exact(pair.1))
        }
        return Scenario(framing: framing, kinds: kinds, order: .inTurn)
    }

    /// The requests and answers when every request is fixed, every answer exact and one
    /// whole framed message, and the kinds go in turn (or there is one): such a scenario
    /// needs no framing to be judged. Nil otherwise, and for a framing the close ends.
    var exactInTurn: (requests: [[UInt8]], responses: [[UInt8]])? {
        guard order == .inTurn || kinds.count == 1, !answerEndsAtClose else { return nil }
        var requests: [[UInt8]] = []
        var responses: [[UInt8]] = []
        for kind in kinds {
            guard let request = kind.template.fixedBytes, case .exact(let answer) = kind.expectation, !answer.isEmpty,
                // Only an answer that is one whole message as the framing cuts it: a
                // shorter one (`+PONG` without its CRLF) must be judged by the framing,
                // or the rest of each real answer would pass for the next one.
                answer.withUnsafeBytes({ framing.frame($0) }) == .complete(answer.count)
            else { return nil }
            requests.append(request)
            responses.append(answer)
        }
        return (requests, responses)
    }

    /// One line for reports: the framing and each kind's share (`RESPFraming: GET 90%,
    /// SET 10%`).
    public var summary: String {
        let total = kinds.reduce(0) { $0 + $1.weight }
        let shares = kinds.map { kind in
            order == .inTurn || kinds.count == 1
                ? kind.name : "\(kind.name) \(String(format: "%.4g", 100 * kind.weight / total))%"
        }
        return "\(type(of: framing)): \(shares.joined(separator: ", "))"
    }

    /// The framing is `UntilCloseFraming`: every connection carries one request.
    public var answerEndsAtClose: Bool { framing is UntilCloseFraming }
}

/// One kind of request in a `Scenario`.
public struct RequestKind: Sendable {
    /// Its name, for reports and errors (`GET`, `SET`).
    public var name: String
    /// How often it is chosen relative to the others (positive).
    public var weight: Double
    /// Its bytes.
    public var template: RequestTemplate
    /// What its answer must be.
    public var expectation: AnswerExpectation

    /// A kind of request named `name`.
    public init(name: String, weight: Double = 1, template: RequestTemplate, expectation: AnswerExpectation = .anyAnswer) {
        self.name = name
        self.weight = weight
        self.template = template
        self.expectation = expectation
    }
}
