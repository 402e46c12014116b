import ConduitMessage

extension Response {
    /// Decodes one whole response message, as `AsyncConnection.request(_:framing:)` with
    /// `AppFraming` returns it: the JSON `result` or the binary content, the way the
    /// tutorial's client reads it. Throws if the bytes are not exactly one message.
    public init(frame: [UInt8]) throws(MessageError) {
        var decoder = MessageDecoder()
        var decoded: Result<Response, MessageError>?
        let outcome = frame.withUnsafeBytes { bytes in
            Result { () throws(MessageError) -> Int in
                try decoder.decode(bytes) { message in
                    decoded = Result { () throws(MessageError) in try Response.decode(message) }
                    return false
                }
            }
        }
        let consumed = try outcome.get()
        guard let decoded, consumed == frame.count else {
            throw .truncated(received: frame.count, expected: nil)
        }
        self = try decoded.get()
    }
}

extension AppRequest {
    /// A `text/json` request `{"action": ACTION, "value": VALUE}` for any action (the
    /// tutorial's client sends actions other than `search` as binary; a custom action
    /// registered on a `Router` wants this).
    public static func json(action: String, value: JSONValue) -> [UInt8] {
        MessageEncoder.jsonMessage(.object([(key: "action", value: .string(action)), (key: "value", value: value)]))
    }
}

extension Response: CustomStringConvertible {
    /// The result as JSON text (`"Follow the white rabbit. 🐰"`), or
    /// `binary/TYPE, N bytes`.
    public var description: String {
        switch self {
        case .result(let value): JSONWriter.text(value)
        case .binary(let contentType, let content): "\(contentType), \(content.count) bytes"
        }
    }
}
