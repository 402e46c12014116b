import ConduitTestSupport
import Conduit
import ConduitMessage
import Testing

@Suite("Incremental message decoder")
struct DecoderTests {
    static let stream = Vectors.searchMorpheus + Vectors.binaryRequest + Vectors.searchDog

    /// Feeds the stream in two pieces split at every byte, the way a connection does:
    /// unconsumed bytes are offered again together with the next piece.
    @Test func splitAtEveryByteBoundary() throws {
        let whole = try decodeAll(Self.stream)
        #expect(whole.count == 3)
        for split in 0...Self.stream.count {
            var decoder = MessageDecoder()
            let first = try decodeAll(Array(Self.stream[..<split]), decoder: &decoder)
            let rest = Array(Self.stream[first.consumed...])
            let second = try decodeAll(rest, decoder: &decoder)
            #expect(first.consumed + second.consumed == Self.stream.count, "split at \(split)")
            #expect(first.messages + second.messages == whole, "split at \(split)")
        }
    }

    @Test func oneByteAtATime() throws {
        var decoder = MessageDecoder()
        var pending: [UInt8] = []
        var messages: [OwnedMessage] = []
        for byte in Self.stream {
            pending.append(byte)
            let (decoded, consumed) = try decodeAll(pending, decoder: &decoder)
            messages += decoded
            pending.removeFirst(consumed)
        }
        #expect(pending.isEmpty)
        // Three messages, so the comparison below cannot pass with both sides empty.
        #expect(messages.count == 3)
        #expect(messages == (try decodeAll(Self.stream)))
    }

    @Test func manyMessagesInOneSegment() throws {
        let segment = Array([[UInt8]](repeating: Vectors.searchDog, count: 500).joined())
        let messages = try decodeAll(segment)
        #expect(messages.count == 500)
        #expect(messages.allSatisfy { $0.content == Array(#"{"action": "search", "value": "🐶"}"#.utf8) })
    }

    @Test func oneMebibyteBinaryMessage() throws {
        let content = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let message = try MessageEncoder.binaryMessage(content, contentType: "binary/custom-client-binary-type")
        let decoded = try decodeAll(message)
        #expect(decoded.count == 1)
        #expect(decoded.first?.content == content)
        #expect(decoded.first?.header.contentLength == 1 << 20)
    }

    @Test func stopsWhenTheCallbackSaysSo() throws {
        var decoder = MessageDecoder()
        let two = Vectors.searchDog + Vectors.searchDog
        var seen = 0
        let consumed = try two.withUnsafeBytes { buffer in
            try decoder.decode(buffer) { _ in
                seen += 1
                return false
            }
        }
        #expect(seen == 1)
        #expect(consumed == Vectors.searchDog.count)
    }

    @Test func streamEndingMidMessageIsTruncated() throws {
        var decoder = MessageDecoder()
        let cut = Array(Vectors.binaryRequest.dropLast(3))
        let (messages, consumed) = try decodeAll(cut, decoder: &decoder)
        #expect(messages.isEmpty)
        #expect(consumed == 0)
        #expect(throws: MessageError.truncated(received: cut.count, expected: Vectors.binaryRequest.count)) {
            try decoder.finish(remaining: cut.count - consumed)
        }
        #expect(throws: Never.self) { try MessageDecoder().finish(remaining: 0) }
    }
}
