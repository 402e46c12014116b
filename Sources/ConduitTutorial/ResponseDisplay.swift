import ConduitApp
import ConduitMessage

extension Response {
    /// The tutorial client's line: `Got result: …` or `Got response: b'…'`.
    package var display: String {
        switch self {
        case .result(let value): return "Got result: \(value.stringValue ?? JSONWriter.text(value))"
        case .binary(_, let content): return "Got response: \(bytesLiteral(content))"
        }
    }
}
