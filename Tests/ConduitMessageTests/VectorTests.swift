import ConduitTestSupport
import ConduitMessage
import Testing

@Suite("PROTOCOL.md test vectors, byte-exact")
struct VectorTests {
    @Test func vectorSizesMatchTheSpec() {
        #expect(Vectors.searchMorpheus.count == 146)
        #expect(Vectors.morpheusResponse.count == 148)
        #expect(Vectors.searchDog.count == 142)
        #expect(Vectors.dogResponse.count == 142)
        #expect(Vectors.noMatchXYZ.count == 138)
        #expect(Vectors.binaryRequest.count == 139)
        #expect(Vectors.binaryResponse.count == 166)
    }

    @Test func encoderProducesTheTutorialsBytes() throws {
        func json(_ members: [(String, String)]) -> [UInt8] {
            MessageEncoder.jsonMessage(.object(members.map { ($0.0, JSONValue.string($0.1)) }))
        }
        #expect(json([("action", "search"), ("value", "morpheus")]) == Vectors.searchMorpheus)
        #expect(json([("result", "Follow the white rabbit. 🐰")]) == Vectors.morpheusResponse)
        #expect(json([("action", "search"), ("value", "🐶")]) == Vectors.searchDog)
        #expect(json([("result", "🐾 Playing ball! 🏐")]) == Vectors.dogResponse)
        #expect(json([("result", "No match for 'xyz'.")]) == Vectors.noMatchXYZ)
        #expect(
            try MessageEncoder.binaryMessage(Array("binary😃".utf8), contentType: "binary/custom-client-binary-type")
                == Vectors.binaryRequest)
        var response = Array("First 10 bytes of request: ".utf8)
        response += Array("binary😃".utf8)
        #expect(
            try MessageEncoder.binaryMessage(response, contentType: "binary/custom-server-binary-type")
                == Vectors.binaryResponse)
    }

    @Test(arguments: [
        Vectors.searchMorpheus, Vectors.morpheusResponse, Vectors.searchDog, Vectors.dogResponse,
        Vectors.noMatchXYZ, Vectors.binaryRequest, Vectors.binaryResponse,
    ])
    func decodeThenEncodeIsIdentity(vector: [UInt8]) throws {
        let messages = try decodeAll(vector)
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        var encoded: [UInt8] = []
        try message.content.withUnsafeBytes {
            try MessageEncoder.append(
                contentType: message.header.contentType, contentEncoding: message.header.contentEncoding,
                content: $0, to: &encoded)
        }
        #expect(encoded == vector)
        #expect(message.header.byteOrder == "little")
        #expect(message.header.contentLength == message.content.count)
    }
}

/// A decoded message with its content copied out.
struct OwnedMessage: Equatable {
    var header: JSONHeader
    var content: [UInt8]
}

/// Decodes every complete message in `bytes`, requiring that all bytes are consumed.
func decodeAll(_ bytes: [UInt8], decoder: inout MessageDecoder) throws -> (messages: [OwnedMessage], consumed: Int) {
    var messages: [OwnedMessage] = []
    let consumed = try bytes.withUnsafeBytes { buffer in
        try decoder.decode(buffer) { message in
            messages.append(OwnedMessage(header: message.header, content: Array(message.content)))
            return true
        }
    }
    return (messages, consumed)
}

func decodeAll(_ bytes: [UInt8]) throws -> [OwnedMessage] {
    var decoder = MessageDecoder()
    let (messages, consumed) = try decodeAll(bytes, decoder: &decoder)
    #expect(consumed == bytes.count)
    return messages
}
