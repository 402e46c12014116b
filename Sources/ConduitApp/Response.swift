import ConduitMessage

/// What a handler answers.
public enum Response: Sendable, Equatable {
    /// A `text/json` response whose content is `{"result": value}`.
    case result(JSONValue)
    /// A binary response with this content type and content.
    case binary(contentType: String, content: [UInt8])

    /// `{"result": "Error: <reason>"}`: what a peer gets for a protocol error.
    public static func error(_ reason: String) -> Response { .result(.string("Error: \(reason)")) }

    /// The content bytes `encode` writes for a `text/json` result, or nil for a binary
    /// answer (which keeps its own path: its header may be too long to frame).
    var jsonContentCount: Int? {
        guard case .result(let value) = self else { return nil }
        return Self.resultCount(value)
    }

    /// Writes a `text/json` result whose content is `contentCount` bytes (from
    /// `jsonContentCount`) into room of `MessageEncoder.jsonMessageSize` bytes.
    func writeJSONMessage(contentCount: Int, into out: inout RawByteWriter) {
        guard case .result(let value) = self else { preconditionFailure("only results are written in place") }
        MessageEncoder.writeJSONMessage(contentCount: contentCount, into: &out) { content in
            JSONWriter.appendLiteral(Self.resultPrefix, to: &content)
            JSONWriter.write(value, into: &content)
            content.append(UInt8(ascii: "}"))
        }
    }

    private static let resultPrefix: StaticString = #"{"result": "#

    /// The content's size: `{"result": ` VALUE `}`.
    private static func resultCount(_ value: JSONValue) -> Int {
        resultPrefix.utf8CodeUnitCount + JSONWriter.encodedCount(value) + 1
    }

    /// Appends the whole encoded message (headers and content) to `out`. Throws
    /// `.headerTooLong` (nothing appended) when a binary content type is so long that
    /// the header would not fit the 2-byte length.
    public func encode(into out: inout [UInt8]) throws(MessageError) {
        switch self {
        case .result(let value):
            // `{"result": VALUE}`, written straight after its header: no tree for the
            // wrapper object and no intermediate array.
            MessageEncoder.appendJSONMessage(contentCount: Self.resultCount(value), to: &out) { content in
                JSONWriter.appendLiteral(Self.resultPrefix, to: &content)
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
