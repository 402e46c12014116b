import ConduitApp
import ConduitMessage

/// One expected response reduced to what semantic comparison looks at: the content
/// type, the content as JSON data or as bytes, and the limits a response to it may
/// announce. Built once per run from our own encoding of the answer.
struct SemanticAnswer: Sendable {
    enum Content: Sendable {
        /// `text/json`: the decoded object, compared with `JSONValue.isEquivalent`.
        case json(JSONValue)
        /// Anything else: the bytes, with the encoding that announced them.
        case bytes([UInt8], encoding: String)
    }

    let contentType: String
    let content: Content
    /// A JSON answer may be spelled longer (spacing, escapes), up to 64 KiB or 16 times
    /// ours, whichever is more; a binary one has exactly our length, so a wrong length is
    /// wrong as soon as the header arrives. Either way a broken server cannot make a
    /// load connection buffer without bound.
    let limits: MessageLimits

    /// The answer encoded in `response`; nil unless it is exactly one valid message
    /// (echo "responses" are raw bytes).
    init?(_ response: [UInt8]) {
        var decoder = MessageDecoder(limits: MessageLimits(maxHeaderBytes: ProtoHeader.maxHeaderLength))
        var found: (header: JSONHeader, content: Content)?
        let consumed = response.withUnsafeBytes { bytes in
            try? decoder.decode(bytes) { message in
                if case .json = message.header.contentType {
                    guard let value = try? Router.decodeJSONContent(message) else { return false }
                    found = (message.header, .json(value))
                } else {
                    found = (message.header, .bytes(Array(message.content), encoding: message.header.contentEncoding))
                }
                return false
            }
        }
        guard let found, consumed == response.count else { return nil }
        contentType = found.header.contentType.description
        content = found.content
        switch found.content {
        case .json:
            limits = MessageLimits(
                maxHeaderBytes: ProtoHeader.maxHeaderLength, maxContentLength: max(64 << 10, 16 * found.header.contentLength))
        case .bytes(let bytes, _):
            limits = MessageLimits(maxHeaderBytes: ProtoHeader.maxHeaderLength, maxContentLength: bytes.count)
        }
    }

    /// True when `message` gives this answer: the same content type, and JSON content
    /// the client can read (utf-8) that is the same JSON data, or the same bytes in the
    /// same encoding. The byte order and extra header keys are informative and ignored.
    func accepts(_ message: Message) -> Bool {
        guard message.header.contentType.description == contentType else { return false }
        switch content {
        case .json(let expected):
            guard let value = try? Router.decodeJSONContent(message) else { return false }
            return value.isEquivalent(to: expected)
        case .bytes(let expected, let encoding):
            return message.header.contentEncoding == encoding && expected.elementsEqual(message.content)
        }
    }
}
