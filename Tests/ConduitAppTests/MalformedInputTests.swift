import ConduitTestSupport
import Conduit
import ConduitApp
import ConduitMessage
import Testing

/// A message with `header` as its JSON header text and `content`.
func rawMessage(header: String, content: [UInt8] = []) -> [UInt8] {
    let json = Array(header.utf8)
    return [UInt8(json.count >> 8), UInt8(json.count & 0xff)] + json + content
}

func header(type: String = "text/json", encoding: String = "utf-8", length: String) -> String {
    #"{"byteorder": "little", "content-type": "\#(type)", "content-encoding": "\#(encoding)", "content-length": \#(length)}"#
}

/// Each malformed input and the error text the server must answer with.
let malformedInputs: [(name: String, bytes: [UInt8], error: String)] = [
    ("bad JSON", rawMessage(header: #"{"byteorder": "little", "#), "JSON header is not valid JSON"),
    ("array header", rawMessage(header: "[1, 2, 3]"), "JSON header must be a JSON object"),
    ("invalid UTF-8", [0, 6] + [0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d], "invalid UTF-8"),
    ("no byteorder", rawMessage(header: #"{"content-type": "text/json", "content-encoding": "utf-8", "content-length": 0}"#), #"missing required header "byteorder""#),
    ("no content-type", rawMessage(header: #"{"byteorder": "big", "content-encoding": "utf-8", "content-length": 0}"#), #"missing required header "content-type""#),
    ("no content-encoding", rawMessage(header: #"{"byteorder": "big", "content-type": "text/json", "content-length": 0}"#), #"missing required header "content-encoding""#),
    ("no content-length", rawMessage(header: #"{"byteorder": "big", "content-type": "text/json", "content-encoding": "utf-8"}"#), #"missing required header "content-length""#),
    ("negative length", rawMessage(header: header(length: "-5")), "content-length must not be negative"),
    ("fractional length", rawMessage(header: header(length: "2.5")), "content-length must be a whole number"),
    ("string length", rawMessage(header: header(length: #""41""#)), "content-length must be a number"),
    ("length above limit", rawMessage(header: header(length: "2000000")), "content-length 2000000 is above the limit of 1000000"),
    ("zero-length header", [0, 0], "JSON header length is 0"),
    ("invalid JSON content", rawMessage(header: header(length: "9"), content: Array("{not json".utf8)), "invalid JSON content"),
    ("JSON content not an object", rawMessage(header: header(length: "2"), content: Array("[]".utf8)), "content must be a JSON object"),
    ("unknown encoding", rawMessage(header: header(encoding: "klingon", length: "2"), content: Array("{}".utf8)), #"unsupported content-encoding "klingon""#),
    ("JSON content nested too deep", jsonContentMessage(#"{"value": "# + String(repeating: "[", count: 65) + String(repeating: "]", count: 65) + "}"), "nesting deeper than 64"),
    ("JSON content of too many values", jsonContentMessage(#"{"value": ["# + Array(repeating: "0", count: 100_000).joined(separator: ",") + "]}"), "more than 100000 values"),
]

/// A `text/json` message with `content`.
func jsonContentMessage(_ content: String) -> [UInt8] {
    rawMessage(header: header(length: String(content.utf8.count)), content: Array(content.utf8))
}

@Suite("Malformed input: an error response, a close, and other connections unharmed")
struct MalformedInputTests {
    static let cases = IOBackend.allCases.flatMap { backend in malformedInputs.indices.map { (backend, $0) } }

    @Test(arguments: cases)
    func answeredWithErrorThenClosed(backend: IOBackend, index: Int) throws {
        try requireUsable(backend)
        let input = malformedInputs[index]
        try withAppServer(backend: backend, limits: MessageLimits(maxContentLength: 1_000_000)) { port in
            let bystander = try BlockingClient(port: port)
            bystander.send(Vectors.searchMorpheus)
            #expect(bystander.receive(count: Vectors.morpheusResponse.count) == Vectors.morpheusResponse)

            let offender = try BlockingClient(port: port)
            offender.send(input.bytes)
            let (bytes, closed) = offender.receiveUntilClosed()
            #expect(closed, "\(input.name): connection not closed")
            let responses = try decodeResponses(bytes)
            #expect(responses.count == 1, "\(input.name)")
            guard case .result(.string(let text))? = responses.first else {
                Issue.record("\(input.name): no error response")
                return
            }
            #expect(text.hasPrefix("Error: "), "\(input.name): \(text)")
            #expect(text.contains(input.error), "\(input.name): \(text)")

            bystander.send(Vectors.searchDog)
            #expect(bystander.receive(count: Vectors.dogResponse.count) == Vectors.dogResponse, "\(input.name)")
        }
    }

    @Test(arguments: IOBackend.allCases)
    func frameCutOffByClose(backend: IOBackend) throws {
        try requireUsable(backend)
        try withAppServer(backend: backend) { port in
            let offender = try BlockingClient(port: port)
            offender.send(Array(Vectors.searchMorpheus.dropLast(10)))
            offender.shutdownWrite()
            let (bytes, closed) = offender.receiveUntilClosed()
            #expect(closed)
            let responses = try decodeResponses(bytes)
            #expect(responses == [.result(.string("Error: connection closed mid-message after 136 of 146 bytes"))])
            let next = try BlockingClient(port: port)
            next.send(Vectors.searchMorpheus)
            #expect(next.receive(count: Vectors.morpheusResponse.count) == Vectors.morpheusResponse)
        }
    }

    @Test func nonASCIIValuesRoundTrip() throws {
        try withAppServer(backend: .swift) { port in
            let client = try BlockingClient(port: port)
            let value = "ünïcödé \u{1F600} \"quoted\" \\ back\tslash 中文"
            client.send(AppRequest(action: "search", value: value).encoded())
            client.shutdownWrite()
            let responses = try decodeResponses(client.receiveUntilClosed().bytes)
            #expect(responses == [.result(.string("No match for '\(value)'."))])
        }
    }
}
