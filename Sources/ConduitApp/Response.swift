import ConduitMessage

/// What a handler answers.
public enum Response: Sendable, Equatable {
    /// A `text/json` response whose content is `{"result": value}`.
    case result(JSONValue)
    /// A binary response with this content type and content.
    case binary(contentType: String, content: [UInt8])

    /// `{"result": "Error: <reason>"}`: what a peer gets for a protocol error.
    public static func error(_ reason: String) -> Response { .result(.string("Error: \(reason)")) }

    /// Appends the whole encoded message (headers and content) to `out`.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .result(let value):
            let content = JSONWriter.encode(.object([("result", value)]))
            content.withUnsafeBytes {
                MessageEncoder.append(contentType: .json, contentEncoding: "utf-8", content: $0, to: &out)
            }
        case .binary(let contentType, let content):
            content.withUnsafeBytes {
                MessageEncoder.append(
                    contentType: ContentType(contentType), contentEncoding: "binary", content: $0, to: &out)
            }
        }
    }
}
