import ConduitMessage

/// What a handler answers.
public enum Response: Sendable, Equatable {
    /// A `text/json` response whose content is `{"result": value}`.
    case result(JSONValue)
    /// A binary response with this content type and content.
    case binary(contentType: String, content: [UInt8])

    /// `{"result": "Error: <reason>"}`: what a peer gets for a protocol error.
    public static func error(_ reason: String) -> Response { .result(.string("Error: \(reason)")) }

    /// Appends the whole encoded message (headers and content) to `out`. Throws
    /// `.headerTooLong` (nothing appended) when a binary content type is so long that
    /// the header would not fit the 2-byte length.
    public func encode(into out: inout [UInt8]) throws(MessageError) {
        switch self {
        case .result(let value):
            // `{"result": VALUE}`, written straight after its header: no tree for the
            // wrapper object and no intermediate array.
            let prefix: StaticString = #"{"result": "#
            let count = prefix.utf8CodeUnitCount + JSONWriter.encodedCount(value) + 1
            MessageEncoder.appendJSONMessage(contentCount: count, to: &out) { content in
                JSONWriter.appendLiteral(prefix, to: &content)
                JSONWriter.write(value, into: &content)
                content.append(UInt8(ascii: "}"))
            }
        case .binary(let contentType, let content):
            let header = JSONHeader(
                contentType: ContentType(contentType), contentEncoding: "binary", contentLength: content.count)
            try MessageEncoder.appendHeaders(header, to: &out)
            out.append(contentsOf: content)
        }
    }
}
