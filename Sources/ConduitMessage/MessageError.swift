/// What was wrong with an incoming message. Each case names the problem in words a
/// peer can act on; the server sends `Error: <description>` and closes.
public enum MessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The proto header announced a JSON header of length zero.
    case emptyHeader
    /// The JSON header is longer than the configured limit.
    case headerTooLong(length: Int, limit: Int)
    /// The JSON header is not valid UTF-8 JSON.
    case invalidHeader(JSONError)
    /// The JSON header is valid JSON but not an object.
    case headerNotObject
    /// A required header key is absent.
    case missingKey(String)
    /// A header value has the wrong type (for example a number for `content-type`).
    case badValue(key: String, reason: String)
    /// `content-length` is not a non-negative integer.
    case badContentLength(String)
    /// `content-length` is above the configured limit.
    case contentTooLong(length: Int, limit: Int)
    /// A text payload names an encoding we cannot decode.
    case unsupportedEncoding(String)
    /// A `text/json` payload is not valid JSON (or not an object).
    case invalidContent(String)
    /// The connection ended in the middle of a message.
    case truncated(received: Int, expected: Int?)

    /// One line for logs and error responses.
    public var description: String {
        switch self {
        case .emptyHeader: return "JSON header length is 0"
        case .headerTooLong(let length, let limit): return "JSON header is \(length) bytes, above the limit of \(limit)"
        case .invalidHeader(let error): return "JSON header is not valid JSON: \(error)"
        case .headerNotObject: return "JSON header must be a JSON object"
        case .missingKey(let key): return "missing required header \"\(key)\""
        case .badValue(let key, let reason): return "header \"\(key)\" \(reason)"
        case .badContentLength(let reason): return "content-length \(reason)"
        case .contentTooLong(let length, let limit): return "content-length \(length) is above the limit of \(limit)"
        case .unsupportedEncoding(let name): return "unsupported content-encoding \"\(name)\""
        case .invalidContent(let reason): return "invalid JSON content: \(reason)"
        case .truncated(let received, let expected):
            let of = expected.map { " of \($0)" } ?? ""
            return "connection closed mid-message after \(received)\(of) bytes"
        }
    }
}
