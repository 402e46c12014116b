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
/// let server = try await AppServer.start(group: group, address: address, router: router)
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
    /// Answers a `text/json` request read in place (see `JSONObjectView`) with the
    /// `result`: no tree is built for the request, so an action that reads a member or
    /// two and answers with a ready value allocates nothing.
    public typealias InPlaceActionHandler = @Sendable (_ request: JSONObjectView) -> JSONValue
    /// Answers a request of any other content type.
    public typealias BinaryHandler = @Sendable (_ header: JSONHeader, _ content: UnsafeRawBufferPointer) -> Response

    /// A registered action.
    enum Action: Sendable {
        case sync(ActionHandler)
        case async(AsyncActionHandler)
        case inPlace(InPlaceActionHandler)
    }

    private var actions: [String: Action] = [:]
    /// The same actions by the bytes of their names: a request's action is found
    /// without making a `String` or hashing it.
    private var actionsByBytes = ActionTable()
    private var binary: BinaryHandler

    /// A router whose binary requests go to `binary` and with no actions yet.
    public init(binary: @escaping BinaryHandler) {
        self.binary = binary
    }

    /// The tutorial's service: the `search` action and the binary responder.
    public static func tutorial() -> Router {
        var router = Router(binary: BinaryResponder.respond)
        router.register(inPlaceAction: "search", SearchService.search)
        return router
    }

    /// Adds (or replaces) the handler for `action`.
    public mutating func register(action: String, _ handler: @escaping ActionHandler) {
        add(action, .sync(handler))
    }

    /// Adds (or replaces) an asynchronous handler for `action`.
    public mutating func register(action: String, async handler: @escaping AsyncActionHandler) {
        add(action, .async(handler))
    }

    /// Adds (or replaces) a handler for `action` that reads its request in place (a
    /// label of its own: with a trailing closure, `register(action:)` would otherwise be
    /// ambiguous).
    public mutating func register(inPlaceAction action: String, _ handler: @escaping InPlaceActionHandler) {
        add(action, .inPlace(handler))
    }

    private mutating func add(_ name: String, _ action: Action) {
        actions[name] = action
        actionsByBytes.set(name, action)
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
        switch try dispatch(message, limits: limits) {
        case .answer(let response): return response
        case .pending: return .error("action is asynchronous; a server runs it")
        }
    }

    /// What routing a message gave: an answer now, or work to await for it.
    enum Routed {
        case answer(Response)
        /// An asynchronous action and its request; `work` makes what a task awaits.
        case pending(AsyncActionHandler, JSONValue)
    }

    /// Routes one decoded message: answers it now, or (an asynchronous action) returns
    /// the work that will. Throws for protocol errors, like `route`.
    ///
    /// The content is checked whole but read in place; a tree is built only for
    /// handlers that take a `JSONValue`. `referenceRoute` is the same routing through a
    /// tree, kept to check this against.
    /// No request context is made here: an autoclosure for it captured a copy of the
    /// message (its header's strings retained and released) on every request.
    func dispatch(_ message: Message, limits: MessageLimits) throws(MessageError) -> Routed {
        guard case .json = message.header.contentType else {
            return .answer(binary(message.header, message.content))
        }
        let request = try Self.jsonContentView(message, limits: limits)
        guard let handler = action(named: request) else {
            // The tutorial's text, with Python's str() of the action (`None` when absent).
            return .answer(.error(Self.invalidAction(request["action"])))
        }
        switch handler {
        case .inPlace(let handler):
            return .answer(.result(handler(request)))
        case .sync(let handler):
            return .answer(.result(handler(request.value)))
        case .async(let handler):
            return .pending(handler, request.value)
        }
    }

    /// The action a request names: found by the bytes of a plain `action` string, or by
    /// the decoded string (escapes, or non-ASCII that compares by canonical equivalence).
    private func action(named request: JSONObjectView) -> Action? {
        if let raw = request.plainString(asciiKey: "action") {
            if let action = actionsByBytes[raw] { return action }
            // ASCII names are equal only when their bytes are.
            if RawBytes.isASCII(raw) { return nil }
        }
        guard let name = request["action"]?.stringValue else { return nil }
        return actions[name]
    }

    /// The work a task awaits for an asynchronous action: its answer, or its error as
    /// `Error: <error>`.
    static func work(
        _ handler: @escaping AsyncActionHandler, _ request: JSONValue, _ context: RequestContext
    ) -> @Sendable () async -> Response {
        {
            do {
                return .result(try await handler(request, context))
            } catch {
                return .error("\(error)")
            }
        }
    }

    /// Routing through a full `JSONValue` tree: simpler and slower, kept as the
    /// reference `route` is checked against (tests and the fuzzer). In-place handlers
    /// get a view of the same content.
    @_spi(Reference) public func referenceRoute(_ message: Message, limits: MessageLimits = MessageLimits()) throws(MessageError) -> Response {
        guard case .json = message.header.contentType else { return binary(message.header, message.content) }
        let request = try Self.decodeJSONContent(message, limits: limits)
        let action = request["action"]
        guard let name = action?.stringValue, let handler = actions[name] else {
            return .error(Self.invalidAction(action))
        }
        switch handler {
        case .sync(let handler): return .result(handler(request))
        case .async: return .error("action is asynchronous; a server runs it")
        case .inPlace(let handler):
            let view = try? Self.jsonContentView(message, limits: limits)
            return view.map { .result(handler($0)) } ?? .error("the in-place view refused what the tree accepted")
        }
    }

    /// A `text/json` content checked (text encoding, JSON, limits) and read in place.
    static func jsonContentView(_ message: Message, limits: MessageLimits) throws(MessageError) -> JSONObjectView {
        try checkEncoding(message.header)
        let view: JSONObjectView?
        do {
            view = try JSONObjectView.validate(
                message.content, maxDepth: limits.maxContentDepth, maxValues: limits.maxContentValues)
        } catch {
            throw .invalidContent(error.description)
        }
        guard let view else { throw .invalidContent("content must be a JSON object") }
        return view
    }

    /// JSON content must be UTF-8: `utf-8` or `utf8`, in any case (ASCII case folding
    /// is exact here: no other character lowercases to these letters).
    static func checkEncoding(_ header: JSONHeader) throws(MessageError) {
        var encoding = header.contentEncoding
        let isUTF8 = encoding.withUTF8 { name in
            let folded = { (index: Int) in name[index] | 0x20 }
            switch name.count {
            case 5: return folded(0) == 0x75 && folded(1) == 0x74 && folded(2) == 0x66 && name[3] == 0x2d && name[4] == 0x38
            case 4: return folded(0) == 0x75 && folded(1) == 0x74 && folded(2) == 0x66 && name[3] == 0x38
            default: return false
            }
        }
        guard isUTF8 else { throw .unsupportedEncoding(header.contentEncoding) }
    }

    /// Decodes a `text/json` content as a JSON object, checking its text encoding and
    /// the depth and value count `limits` allow.
    public static func decodeJSONContent(
        _ message: Message, limits: MessageLimits = MessageLimits()
    ) throws(MessageError) -> JSONValue {
        try checkEncoding(message.header)
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

extension Router {
    /// The tutorial's text for an action nobody handles, with Python's str() of it
    /// (`None` when absent); a value too long to show is not shown.
    static func invalidAction(_ action: JSONValue?) -> String {
        guard let shown = PythonText.str(action ?? .null) else {
            return "invalid action whose text is over \(PythonText.showLimit) bytes."
        }
        return "invalid action '\(shown)'."
    }
}
