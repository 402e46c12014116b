import ConduitApp
import ConduitLoad
import ConduitMessage

/// What the first answer judged wrong suggests about the server, for the line after
/// the report: the run may be aimed at the wrong kind of server, or the right one
/// answering in other bytes.
enum WrongAnswerHint {
    /// The hint for `answer` (the first bytes of the first wrong answer) in a run of
    /// `workload` compared by `comparison`.
    static func hint(_ answer: [UInt8], workload: Workload, comparison: ResponseComparison) -> String {
        let shown = bytesLiteral(answer, limit: 80)
        let requests = WorkloadMessages(workload: workload, size: 64).requests
        if workload != .echo, requests.contains(where: { !answer.isEmpty && $0.starts(with: answer) }) {
            return "the server sent the request back (\(shown)): for an echo server use --workload echo"
        }
        guard let response = appResponse(answer) else {
            return "the first wrong answer began \(shown)"
        }
        if case .result(.string(let text)) = response, text.hasPrefix("Error: server busy: at its limit") {
            return "the server refused connections above its limit ('\(text)'): use fewer --connections, "
                + "or raise its --max-connections"
        }
        if case .result(.string(let text)) = response, text.hasPrefix("Error: ") {
            return "the server answered with an error: '\(text)'"
        }
        if comparison == .exact {
            return "the answers are well-formed messages with other bytes than Conduit's (another encoding of the "
                + "same JSON?): --compare semantic compares their meaning; the first began \(shown)"
        }
        return "the first wrong answer began \(shown)"
    }

    /// `bytes` read as one application-protocol response, if they hold one.
    private static func appResponse(_ bytes: [UInt8]) -> Response? {
        var decoder = MessageDecoder()
        var response: Response?
        _ = bytes.withUnsafeBytes { raw in
            try? decoder.decode(raw) { message in
                response = try? Response.decode(message)
                return false
            }
        }
        return response
    }
}
