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
/// Synchronous handlers run on the loop thread that received the request; they must
/// not block. An action that awaits (a database, another service) is registered with
/// `register(action:async:)`: it runs in a task, its loop serves others meanwhile, and
/// answers still go out in the order the requests came.
public struct Router: Sendable {
    /// Answers a `text/json` request (its decoded content object) with the `result`.
    public typealias ActionHandler = @Sendable (_ request: JSONValue) -> JSONValue
    /// Answers a `text/json` request with the `result`, awaiting what it needs; a
    /// thrown error is answered as `Error: <error>`.
    public typealias AsyncActionHandler = @Sendable (_ request: JSONValue, _ context: RequestContext) async throws -> JSONValue
    /// Answers a request of any other content type.
    public typealias BinaryHandler = @Sendable (_ header: JSONHeader, _ content: UnsafeRawBufferPointer) -> Response

    /// A registered action.
    enum Action: Sendable {
        case sync(ActionHandler)
        case async(AsyncActionHandler)
    }

    private var actions: [String: Action] = [:]
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
        actions[action] = .sync(handler)
    }

    /// Adds (or replaces) an asynchronous handler for `action`.
    public mutating func register(action: String, async handler: @escaping AsyncActionHandler) {
        actions[action] = .async(handler)
    }

    /// The registered action names, sorted.
    public var actionNames: [String] { actions.keys.sorted() }

    /// Routes one decoded message. Throws for protocol errors (an encoding we cannot
    /// read, content that is not a JSON object); an unknown action is not a protocol
    /// error and is answered like the tutorial does: `Error: invalid action 'ACTION'.`
    /// `limits` bounds the JSON content's depth and number of values.
    /// An asynchronous action is not run here (see `dispatch`): it is answered with an
    /// error saying so.
    public func route(_ message: Message, limits: MessageLimits = MessageLimits()) throws(MessageError) -> Response {
        switch try dispatch(message, limits: limits, context: RequestContext(peer: nil, header: message.header)) {
        case .answer(let response): return response
        case .pending: return .error("action is asynchronous; a server runs it")
        }
    }

    /// What routing a message gave: an answer now, or work to await for it.
    enum Routed {
        case answer(Response)
        case pending(@Sendable () async -> Response)
    }

    /// Routes one decoded message: answers it now, or (an asynchronous action) returns
    /// the work that will. Throws for protocol errors, like `route`.
    func dispatch(_ message: Message, limits: MessageLimits, context: @autoclosure () -> RequestContext) throws(MessageError) -> Routed {
        guard case .json = message.header.contentType else {
            return .answer(binary(message.header, message.content))
        }
        let request = try Self.decodeJSONContent(message, limits: limits)
        let action = request["action"]
        guard let name = action?.stringValue, let handler = actions[name] else {
            // The tutorial's text, with Python's str() of the action (`None` when absent).
            return .answer(.error("invalid action '\(PythonText.str(action ?? .null))'."))
        }
        switch handler {
        case .sync(let handler):
            return .answer(.result(handler(request)))
        case .async(let handler):
            let context = context()
            return .pending {
                do {
                    return .result(try await handler(request, context))
                } catch {
                    return .error("\(error)")
                }
            }
        }
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
