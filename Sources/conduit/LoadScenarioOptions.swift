import ArgumentParser
import Conduit
import ConduitLoad
import Foundation

/// `conduit load`'s flags for loading any TCP service: the framing of its answers, the
/// request (or a scenario file of weighted request kinds) and what each answer must be,
/// and connection churn.
struct LoadScenarioOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How the server's answers are cut into messages: \(FramingSpec.syntax).", valueName: "framing"))
    var framing: String?
    @Option(
        help: ArgumentHelp(
            """
            The request to send, with escapes (\\r \\n \\t \\0 \\\\ \\{ \\} \\xNN) and fields: {conn}, {seq}, \
            {key:LOW-HIGH} (uniform), {key:LOW-HIGH:zipf}, {random:N} letters, {NAME=FIELD} to name one and \
            {len:NAME} (or len8, len16be, len16le, len32be, len32le, len64be, len64le) for its length. Needs --framing.
            """, valueName: "template"))
    var request: String?
    @Option(help: ArgumentHelp("Send this file's bytes as the request (needs --framing).", valueName: "path"))
    var requestFile: String?
    @Option(help: ArgumentHelp("Each answer must be exactly these bytes (escapes as in --request).", valueName: "bytes"))
    var expect: String?
    @Option(help: ArgumentHelp("Each answer must start with these bytes (escapes as in --request).", valueName: "bytes"))
    var expectPrefix: String?
    @Option(help: ArgumentHelp("Each answer's text must match this POSIX extended regular expression.", valueName: "regex"))
    var expectRegex: String?
    @Option(
        help: ArgumentHelp(
            "A JSON scenario: framing, request kinds with weights, templates and expectations (see the ConduitLoad docs, 'Loading any TCP service').",
            valueName: "path"))
    var scenario: String?
    @Option(
        help: ArgumentHelp(
            "Close each connection after N answers and open a new one (1: connect, request, answer, close). The report adds connect latency and connections/s. Default with --framing close: 1.",
            valueName: "N"))
    var requestsPerConnection: Int?

    /// True if any flag of a custom workload was given.
    var isCustom: Bool { request != nil || requestFile != nil || scenario != nil }

    /// The scenario the flags describe, or nil for a built-in workload. Every mistake is a
    /// `ValidationError` naming the flag.
    func build() throws -> Scenario? {
        let requests = [request != nil, requestFile != nil, scenario != nil].count { $0 }
        let expectations = [expect != nil, expectPrefix != nil, expectRegex != nil].count { $0 }
        if requests > 1 { throw ValidationError("give one of --request, --request-file and --scenario") }
        if expectations > 1 { throw ValidationError("give at most one of --expect, --expect-prefix and --expect-regex") }
        if requests == 0 {
            if framing != nil || expectations > 0 {
                throw ValidationError("--framing and --expect… describe a custom request: give --request, --request-file or --scenario")
            }
            return nil
        }
        if let scenario {
            if framing != nil || expectations > 0 {
                throw ValidationError("the scenario file sets the framing and the expectations: not with --framing or --expect…")
            }
            do {
                return try ScenarioFile.load(scenario)
            } catch {
                throw ValidationError("--scenario \(error.description)")
            }
        }
        guard let framing else {
            throw ValidationError("--request needs --framing: how the server's answers are cut into messages (\(FramingSpec.syntax))")
        }
        let parsedFraming: any MessageFraming
        do {
            parsedFraming = try FramingSpec.parse(framing)
        } catch {
            throw ValidationError("--framing \(error.description)")
        }
        let template: RequestTemplate
        if let request {
            do {
                template = try RequestTemplate(parsing: request)
            } catch {
                throw ValidationError("--request \(error.description)")
            }
        } else {
            let path = requestFile!
            guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
                throw ValidationError("--request-file \(path) cannot be read or is empty")
            }
            template = RequestTemplate(bytes: Array(data))
        }
        return Scenario(framing: parsedFraming, request: template, expectation: try expectation(for: parsedFraming))
    }

    private func expectation(for framing: any MessageFraming) throws -> AnswerExpectation {
        do {
            if let expect { return .exact(try RequestTemplate.unescaped(expect)) }
            if let expectPrefix { return .prefix(try RequestTemplate.unescaped(expectPrefix)) }
            if let expectRegex { return .matches(try AnswerPattern(expectRegex)) }
        } catch {
            throw ValidationError("--expect… \(error.description)")
        }
        return framing is RESPFraming ? .notRESPError : .anyAnswer
    }

    /// The flags again, for the worker processes of `--processes`.
    var arguments: [String] {
        var list: [String] = []
        func add(_ flag: String, _ value: String?) { if let value { list += [flag, value] } }
        add("--framing", framing)
        add("--request", request)
        add("--request-file", requestFile)
        add("--expect", expect)
        add("--expect-prefix", expectPrefix)
        add("--expect-regex", expectRegex)
        add("--scenario", scenario)
        add("--requests-per-connection", requestsPerConnection.map(String.init))
        return list
    }
}
