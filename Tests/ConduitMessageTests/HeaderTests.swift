@_spi(Reference) import ConduitMessage
import Testing

/// Frames `header` (any text) with a proto header and `content`.
func frame(header: String, content: [UInt8] = []) -> [UInt8] {
    let json = Array(header.utf8)
    return [UInt8(json.count >> 8), UInt8(json.count & 0xff)] + json + content
}

func frame(headerBytes json: [UInt8]) -> [UInt8] {
    [UInt8(json.count >> 8), UInt8(json.count & 0xff)] + json
}

@Suite("JSON header validation")
struct HeaderTests {
    @Test func anyValidJSONIsAcceptedAndExtraKeysKept() throws {
        let header = #"""
             { "content-length" : 2, "x-trace": [1, {"a": null}], "content-encoding":"utf-8",
            "content-type": "text\/json", "byteorder": "big" }
            """#
        let messages = try decodeAll(frame(header: header, content: Array("{}".utf8)))
        let decoded = try #require(messages.first?.header)
        #expect(decoded.contentType == .json)
        #expect(decoded.byteOrder == "big")
        #expect(decoded.contentLength == 2)
        #expect(decoded.extra.map(\.key) == ["x-trace"])
        #expect(decoded.extra.first?.value == .array([.number("1"), .object([("a", .null)])]))
    }

    @Test func escapesInValuesAreDecoded() throws {
        let header =
            #"{"byteorder": "little", "content-type": "binary\/caf\u00e9 \ud83d\udc36", "content-encoding": "binary", "content-length": 0}"#
        let decoded = try #require(try decodeAll(frame(header: header)).first?.header)
        #expect(decoded.contentType == .other("binary/café 🐶"))
    }

    static let base: [(String, String)] = [
        ("byteorder", #""little""#), ("content-type", #""text/json""#), ("content-encoding", #""utf-8""#),
        ("content-length", "0"),
    ]

    static func header(without key: String? = nil, replacing: (String, String)? = nil) -> String {
        let members = base.filter { $0.0 != key }.map { member in
            member.0 == replacing?.0 ? "\"\(member.0)\": \(replacing!.1)" : "\"\(member.0)\": \(member.1)"
        }
        return "{" + members.joined(separator: ", ") + "}"
    }

    @Test(arguments: ["byteorder", "content-type", "content-encoding", "content-length"])
    func eachRequiredKeyMissing(key: String) {
        #expect(throws: MessageError.missingKey(key)) { try decodeAll(frame(header: Self.header(without: key))) }
    }

    @Test(arguments: [
        ("-1", "content-length must not be negative (-1)"),
        ("1.5", "content-length must be a whole number (1.5)"),
        ("1e3", "content-length must be a whole number (1e3)"),
        (#""12""#, #"content-length must be a number, not "12""#),
        ("null", "content-length must be a number, not null"),
        ("99999999999", "content-length 99999999999 is above the limit of 16777216"),
    ])
    func badContentLength(value: String, message: String) {
        let bytes = frame(header: Self.header(replacing: ("content-length", value)))
        do {
            _ = try decodeAll(bytes)
            Issue.record("accepted content-length \(value)")
        } catch let error as MessageError {
            #expect(error.description == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func contentLengthAboveAConfiguredLimit() {
        var decoder = MessageDecoder(limits: MessageLimits(maxContentLength: 100))
        let bytes = frame(header: Self.header(replacing: ("content-length", "101")))
        #expect(throws: MessageError.contentTooLong(length: 101, limit: 100)) {
            try decodeAll(bytes, decoder: &decoder)
        }
    }

    @Test func headerAboveTheLimitIsRejectedBeforeItArrives() {
        var decoder = MessageDecoder(limits: MessageLimits(maxHeaderBytes: 64))
        // Only the proto header is needed to know.
        #expect(throws: MessageError.headerTooLong(length: 300, limit: 64)) {
            try decodeAll([0x01, 0x2c], decoder: &decoder)
        }
    }

    @Test func malformedHeaders() {
        #expect(throws: MessageError.emptyHeader) { try decodeAll([0, 0]) }
        #expect(throws: MessageError.headerNotObject) { try decodeAll(frame(header: "[1, 2]")) }
        #expect(throws: MessageError.self) { try decodeAll(frame(header: "{\"byteorder\": ")) }
        #expect(throws: MessageError.self) { try decodeAll(frame(headerBytes: [0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])) }
        #expect(throws: MessageError.badValue(key: "content-type", reason: "must be a string")) {
            try decodeAll(frame(header: Self.header(replacing: ("content-type", "7"))))
        }
    }

    @Test func encodingHeadersRoundTrips() throws {
        let header = JSONHeader(
            contentType: .other("application/x-thing"), contentEncoding: "binary", contentLength: 3,
            extra: [("note", .string("tab\there \"quoted\" ✓"))])
        var bytes: [UInt8] = []
        try MessageEncoder.appendHeaders(header, to: &bytes)
        bytes += [1, 2, 3]
        #expect(try decodeAll(bytes).first?.header == header)
        let text = String(decoding: bytes.dropFirst(2).dropLast(3), as: UTF8.self)
        #expect(text.hasSuffix(#", "content-length": 3, "note": "tab\there \"quoted\" ✓"}"#))
    }
}

extension HeaderTests {
    /// A repeated key counts as its last occurrence, as in Python's `json.loads`, which
    /// the tutorial's server reads headers with: a bad first `content-length` followed by
    /// a good one is the good one (it used to be refused), and the reverse is refused.
    @Test func aRepeatedKeyIsItsLastOccurrence() throws {
        let keys = #""byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8""#
        for header in [
            "{\(keys), \"content-length\": -1, \"content-length\": 2}",
            "{\"content-type\": 5, \(keys), \"content-length\": \"x\", \"content\\u002dlength\": 2}",
        ] {
            for decoded in try Self.bothDecoders(header) {
                #expect(decoded.contentLength == 2, "\(header)")
                #expect(decoded.contentType == .json)
            }
        }
        #expect(throws: MessageError.self) { try Self.bothDecoders("{\(keys), \"content-length\": 2, \"content-length\": -1}") }
    }

    /// `header` as the one-pass decoder and the reference decoder read it.
    static func bothDecoders(_ header: String) throws -> [JSONHeader] {
        let bytes = Array(header.utf8)
        let fast = try bytes.withUnsafeBytes { bytes throws in try JSONHeader.decode(bytes) }
        let reference = try bytes.withUnsafeBytes { bytes throws in try JSONHeader.referenceDecode(bytes) }
        return [fast, reference]
    }
}
