import Conduit
import ConduitMessage

/// A request as the tutorial's client builds it from `ACTION VALUE`.
public struct AppRequest: Sendable, Equatable {
    /// The action (`search`, or anything else for a binary request).
    public var action: String
    /// The value.
    public var value: String

    /// A request for `action` with `value`.
    public init(action: String, value: String) {
        self.action = action
        self.value = value
    }

    /// The whole message on the wire, as the tutorial's client sends it: for `search`,
    /// `text/json` content `{"action": "search", "value": VALUE}`; otherwise
    /// `binary/custom-client-binary-type` content of ACTION followed by VALUE — which a
    /// router answers with its binary handler. For a `text/json` request with any other
    /// action, use `AppRequest.json(action:value:)`.
    public func encoded() -> [UInt8] {
        if action == "search" {
            return MessageEncoder.jsonMessage(.object([("action", .string(action)), ("value", .string(value))]))
        }
        // A fixed, short content type: the header is far below the 65,535-byte limit.
        return try! MessageEncoder.binaryMessage(
            Array((action + value).utf8), contentType: "binary/custom-client-binary-type")
    }
}

extension Response {
    /// Reads a response message the way the tutorial's client does: `text/json`
    /// content's `result` (null when absent), or the binary content as is.
    public static func decode(_ message: Message) throws(MessageError) -> Response {
        guard case .json = message.header.contentType else {
            return .binary(contentType: message.header.contentType.description, content: Array(message.content))
        }
        let object = try Router.decodeJSONContent(message)
        return .result(object["result"] ?? .null)
    }
}
