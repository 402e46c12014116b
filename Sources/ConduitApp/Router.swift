import ConduitMessage

/// Sends each request to a handler: `text/json` requests by their `action`, every
/// other content type to the binary handler.
///
/// A value: build it, then give it to a server, which keeps its own copy, so what a
/// server routes cannot change while it serves:
/// ```swift
/// var router = Router.tutorial()
/// router.register(action: "upper") { request in
///     .string((request["value"]?.stringValue ?? "").uppercased())
/// }
/// let server = try AppServer(group: group, address: address, router: router)
/// ```
/// Handlers run on the loop thread that received the request; they must not block.
public struct Router: Sendable {
    /// Answers a `text/json` request (its decoded content object) with the `result`.
    public typealias ActionHandler = @Sendable (_ request: JSONValue) -> JSONValue
    /// Answers a request of any other content type.
    public typealias BinaryHandler = @Sendable (_ header: JSONHeader, _ content: UnsafeRawBufferPointer) -> Response

    private var actions: [String: ActionHandler] = [:]
    private var binary: BinaryHandler

    /// A router whose binary requests go to `binary` and with no actions yet.
    public init(binary: @escaping BinaryHandler) {
        self.binary = binary
    }

    /// The tutorial's service: the `search` action and the binary responder.
    public static func tutorial() -> Router {
        var router = Router(binary: BinaryResponder.respond)
        router.register(action: "search", SearchService.search)
        return router
    }

    /// Adds (or replaces) the handler for `action`.
    public mutating func register(action: String, _ handler: @escaping ActionHandler) {
        actions[action] = handler
    }

    /// The registered action names, sorted.
    public var actionNames: [String] { actions.keys.sorted() }

    /// Routes one decoded message. Throws for protocol errors (an encoding we cannot
    /// read, content that is not a JSON object); an unknown action is not a protocol
    /// error and is answered like the tutorial does: `Error: invalid action 'ACTION'.`
    /// `limits` bounds the JSON content's depth and number of values.
    public func route(_ message: Message, limits: MessageLimits = MessageLimits()) throws(MessageError) -> Response {
        guard case .json = message.header.contentType else {
            return binary(message.header, message.content)
        }
        let request = try Self.decodeJSONContent(message, limits: limits)
        let action = request["action"]
        guard let name = action?.stringValue, let handler = actions[name] else {
            // The tutorial's text, with Python's str() of the action (`None` when absent).
            return .error("invalid action '\(PythonText.str(action ?? .null))'.")
        }
        return .result(handler(request))
    }

    /// Decodes a `text/json` content as a JSON object, checking its text encoding and
    /// the depth and value count `limits` allow.
    public static func decodeJSONContent(
        _ message: Message, limits: MessageLimits = MessageLimits()
    ) throws(MessageError) -> JSONValue {
        let encoding = message.header.contentEncoding.lowercased()
        guard encoding == "utf-8" || encoding == "utf8" else {
            throw .unsupportedEncoding(message.header.contentEncoding)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(
                message.content, maxDepth: limits.maxContentDepth, maxValues: limits.maxContentValues)
        } catch {
            throw .invalidContent(error.description)
        }
        guard case .object = value else { throw .invalidContent("content must be a JSON object") }
        return value
    }
}
