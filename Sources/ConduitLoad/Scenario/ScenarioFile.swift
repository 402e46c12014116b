import Conduit
import Foundation

/// A scenario written as a JSON file (`conduit load --scenario FILE`):
///
/// ```json
/// {
///   "framing": "resp",
///   "requests": [
///     {"name": "GET", "weight": 90, "request": "*2\r\n$3\r\nGET\r\n${len:k}\r\n{k=key:1-1000:zipf}\r\n"},
///     {"name": "SET", "weight": 10,
///      "request": "*3\r\n$3\r\nSET\r\n${len:k}\r\n{k=key:1-1000}\r\n$8\r\n{random:8}\r\n",
///      "expect": {"exact": "+OK\r\n"}}
///   ]
/// }
/// ```
///
/// `framing` is what `--framing` takes (`FramingSpec`); `order` is `weighted` (the
/// default) or `in-turn`; each request has a `name`, a `weight` (default 1), a `request`
/// template (`RequestTemplate(parsing:)`) or a `request-file` (raw bytes; a path relative
/// to the scenario file), and an `expect`: `"any"`, `"not-resp-error"` (the default with
/// RESP; `"any"` otherwise), or one of `{"exact": …}`, `{"prefix": …}` (bytes, with
/// escapes) and `{"regex": …}`.
public enum ScenarioFile {
    /// The scenario in the file at `path`.
    public static func load(_ path: String) throws(ScenarioError) -> Scenario {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ScenarioError("cannot read the scenario file \(path): \(error.localizedDescription)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            return try parse(data, relativeTo: directory)
        } catch {
            throw ScenarioError("\(path): \(error.description)")
        }
    }

    /// The scenario in `data`; `request-file` paths are relative to `directory`.
    public static func parse(_ data: Data, relativeTo directory: String = ".") throws(ScenarioError) -> Scenario {
        try checkKeys(data)
        let file: FileScenario
        do {
            file = try JSONDecoder().decode(FileScenario.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ScenarioError("missing \"\(key.stringValue)\"\(where_(context))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw ScenarioError("wrong type\(where_(context)): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw ScenarioError("not valid JSON\(where_(context)): \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)")
        } catch {
            throw ScenarioError("not a scenario: \(error)")
        }
        let framing = try FramingSpec.parse(file.framing)
        let order = try file.order.map { text throws(ScenarioError) -> Scenario.Order in
            guard let order = Scenario.Order(rawValue: text) else { throw ScenarioError("order is weighted or in-turn, not '\(text)'") }
            return order
        } ?? .weighted
        guard !file.requests.isEmpty else { throw ScenarioError("\"requests\" is empty: a scenario needs at least one") }
        var kinds: [RequestKind] = []
        for (index, request) in file.requests.enumerated() {
            let name = request.name ?? "request \(index + 1)"
            do throws(ScenarioError) {
                let template: RequestTemplate
                switch (request.request, request.requestFile) {
                case (let text?, nil): template = try RequestTemplate(parsing: text)
                case (nil, let file?):
                    let path = file.hasPrefix("/") ? file : directory + "/" + file
                    guard let bytes = FileManager.default.contents(atPath: path) else { throw ScenarioError("cannot read request-file \(path)") }
                    template = RequestTemplate(bytes: Array(bytes))
                default: throw ScenarioError("give one of \"request\" and \"request-file\"")
                }
                let defaultExpectation: AnswerExpectation = framing is RESPFraming ? .notRESPError : .anyAnswer
                var expectation = defaultExpectation
                if let expect = request.expect { expectation = try expect.expectation() }
                kinds.append(RequestKind(name: name, weight: request.weight ?? 1, template: template, expectation: expectation))
            } catch {
                throw ScenarioError("request '\(name)': \(error.description)")
            }
        }
        let scenario = Scenario(framing: framing, kinds: kinds, order: order)
        if let problem = scenario.problem() { throw problem }
        return scenario
    }

    /// A misspelt key (`"weigth"`) would otherwise be ignored and its default used.
    private static func checkKeys(_ data: Data) throws(ScenarioError) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        let known = ["framing", "order", "requests"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ScenarioError("unknown key \"\(unknown)\" (a scenario has \(known.joined(separator: ", ")))")
        }
        let knownInRequest = ["name", "weight", "request", "request-file", "expect"]
        for (index, request) in ((object["requests"] as? [Any]) ?? []).enumerated() {
            guard let request = request as? [String: Any] else { continue }
            if let unknown = request.keys.sorted().first(where: { !knownInRequest.contains($0) }) {
                throw ScenarioError(
                    "unknown key \"\(unknown)\" in request \(index + 1) (a request has \(knownInRequest.joined(separator: ", ")))")
            }
        }
    }

    private static func where_(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "" : " at \(path)"
    }

    private struct FileScenario: Decodable {
        var framing: String
        var order: String?
        var requests: [FileRequest]
    }

    private struct FileRequest: Decodable {
        var name: String?
        var weight: Double?
        var request: String?
        var requestFile: String?
        var expect: FileExpectation?

        enum CodingKeys: String, CodingKey {
            case name, weight, request, expect
            case requestFile = "request-file"
        }
    }

    /// `"any"`, `"not-resp-error"`, or an object with one of exact, prefix, regex.
    private enum FileExpectation: Decodable {
        case word(String)
        case object([String: String])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let word = try? container.decode(String.self) {
                self = .word(word)
            } else {
                self = .object(try container.decode([String: String].self))
            }
        }

        func expectation() throws(ScenarioError) -> AnswerExpectation {
            switch self {
            case .word("any"): return .anyAnswer
            case .word("not-resp-error"): return .notRESPError
            case .word(let word): throw ScenarioError("expect is \"any\", \"not-resp-error\" or an object, not \"\(word)\"")
            case .object(let object):
                guard object.count == 1, let (key, value) = object.first else {
                    throw ScenarioError("expect holds one of exact, prefix, regex")
                }
                switch key {
                case "exact": return .exact(try RequestTemplate.unescaped(value))
                case "prefix": return .prefix(try RequestTemplate.unescaped(value))
                case "regex": return .matches(try AnswerPattern(value))
                default: throw ScenarioError("expect holds one of exact, prefix, regex, not \"\(key)\"")
                }
            }
        }
    }
}
