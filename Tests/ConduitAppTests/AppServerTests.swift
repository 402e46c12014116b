import ConduitTestSupport
import Conduit
import ConduitApp
import ConduitMessage
import Testing

/// Runs `body` with an app server (the tutorial's service) on an ephemeral port.
func withAppServer<R>(
    backend: IOBackend, limits: MessageLimits = MessageLimits(), router: Router = .tutorial(),
    headerTimeout: Duration = .zero, log: AppLog = .silent, _ body: (Int) throws -> R
) throws -> R {
    let group = try EventLoopGroup(threads: 1, backend: backend)
    defer { group.syncShutdown() }
    let server = try AppServer(
        group: group, address: .loopback(port: 0), router: router, limits: limits,
        headerTimeout: headerTimeout, log: log)
    return try body(server.address.port)
}

/// Decodes one whole response from `bytes`.
func decodeResponses(_ bytes: [UInt8]) throws -> [Response] {
    var decoder = MessageDecoder()
    var responses: [Response] = []
    var failure: Error?
    let consumed = try bytes.withUnsafeBytes { buffer in
        try decoder.decode(buffer) { message in
            do { responses.append(try Response.decode(message)) } catch { failure = error }
            return true
        }
    }
    if let failure { throw failure }
    #expect(consumed == bytes.count, "trailing bytes after responses")
    return responses
}

@Suite("App server over loopback")
struct AppServerTests {
    @Test(arguments: IOBackend.allCases)
    func vectorsByteExactOverTheWire(backend: IOBackend) throws {
        try requireUsable(backend)
        try withAppServer(backend: backend) { port in
            let client = try BlockingClient(port: port)
            for (request, response) in [
                (Vectors.searchMorpheus, Vectors.morpheusResponse), (Vectors.searchDog, Vectors.dogResponse),
                (Vectors.binaryRequest, Vectors.binaryResponse),
            ] {
                client.send(request)
                #expect(client.receive(count: response.count) == response)
            }
        }
    }

    @Test(arguments: IOBackend.allCases)
    func pipelinedRequestsAreAnsweredInOrder(backend: IOBackend) throws {
        try requireUsable(backend)
        try withAppServer(backend: backend) { port in
            let client = try BlockingClient(port: port)
            let requests = (0..<200).map { index in
                index % 3 == 2 ? Vectors.binaryRequest : AppRequest(action: "search", value: ["morpheus", "ring", "🐶"][index % 2]).encoded()
            }
            client.send(Array(requests.joined()))
            client.shutdownWrite()
            let (bytes, closed) = client.receiveUntilClosed()
            #expect(closed)
            let responses = try decodeResponses(bytes)
            #expect(responses.count == 200)
            for (index, response) in responses.enumerated() {
                switch index % 3 {
                case 2: #expect(response == .binary(contentType: BinaryResponder.contentType, content: Array("First 10 bytes of request: binary😃".utf8)))
                default:
                    let expected = index % 2 == 0 ? "Follow the white rabbit. 🐰" : "In the caves beneath the Misty Mountains. 💍"
                    #expect(response == .result(.string(expected)), "response \(index)")
                }
            }
        }
    }

    @Test(arguments: IOBackend.allCases)
    func oneMebibyteBinaryRequest(backend: IOBackend) throws {
        try requireUsable(backend)
        try withAppServer(backend: backend) { port in
            let content = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
            let client = try BlockingClient(port: port)
            client.send(try MessageEncoder.binaryMessage(content, contentType: "binary/custom-client-binary-type"))
            let expected = Response.binary(
                contentType: BinaryResponder.contentType, content: Array("First 10 bytes of request: ".utf8) + content.prefix(10))
            var encoded: [UInt8] = []
            try expected.encode(into: &encoded)
            #expect(client.receive(count: encoded.count) == encoded)
        }
    }

    @Test func customActionsAreRouted() throws {
        var router = Router.tutorial()
        router.register(action: "upper") { request in .string((request["value"]?.stringValue ?? "").uppercased()) }
        #expect(router.actionNames == ["search", "upper"])
        try withAppServer(backend: .shim, router: router) { port in
            let client = try BlockingClient(port: port)
            client.send(AppRequest(action: "search", value: "ring").encoded())
            client.send(MessageEncoder.jsonMessage(.object([("action", .string("upper")), ("value", .string("héllo"))])))
            client.send(MessageEncoder.jsonMessage(.object([("action", .string("nope")), ("value", .string("x"))])))
            client.shutdownWrite()
            let responses = try decodeResponses(client.receiveUntilClosed().bytes)
            #expect(responses == [
                .result(.string("In the caves beneath the Misty Mountains. 💍")), .result(.string("HÉLLO")),
                .result(.string("Error: invalid action 'nope'.")),
            ])
        }
    }
}
