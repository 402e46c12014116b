import ConduitMessage
import Testing

/// Numbers from the wire and from callers are checked, never trusted into a trap.
@Suite("Integer limits")
struct IntegerLimitTests {
    static func request(contentLength: String) -> [UInt8] {
        let header = Array(
            #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": \#(contentLength)}"#
                .utf8)
        return [UInt8(header.count >> 8), UInt8(header.count & 0xFF)] + header + Array("{}".utf8)
    }

    static func decode(_ bytes: [UInt8], limits: MessageLimits) throws(MessageError) -> Int {
        var decoder = MessageDecoder(limits: limits)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { raw.deallocate() }
        raw.copyBytes(from: bytes)
        return try decoder.decode(UnsafeRawBufferPointer(raw)) { _ in true }
    }

    /// `headerEnd + contentLength` used to overflow (and kill the server) when the
    /// limit allowed a length near `Int.max`.
    @Test func aLengthNearIntMaxIsAnErrorNotATrap() {
        let limits = MessageLimits(maxContentLength: Int.max)
        #expect(limits.maxContentLength == MessageLimits.largestContentLength)
        #expect(throws: MessageError.self) {
            _ = try Self.decode(Self.request(contentLength: String(Int.max)), limits: limits)
        }
    }

    /// A 20-digit length does not fit an `Int`: rejected as such, not read as `Int.max`.
    @Test func aTwentyDigitLengthIsRejected() {
        let limits = MessageLimits(maxContentLength: Int.max)
        do {
            _ = try Self.decode(Self.request(contentLength: "99999999999999999999"), limits: limits)
            Issue.record("a 20-digit content-length was accepted")
        } catch {
            guard case .badContentLength(let reason) = error else {
                Issue.record("expected badContentLength, got \(error)")
                return
            }
            #expect(reason.contains("99999999999999999999"))
        }
    }

    /// A JSON header over 65,535 bytes cannot be framed: the encoder says so and
    /// leaves its output as it was.
    @Test func anOversizedHeaderIsAnEncodingError() {
        var out: [UInt8] = [7]
        let header = JSONHeader(
            contentType: ContentType(String(repeating: "x", count: 70_000)), contentEncoding: "binary",
            contentLength: 0)
        #expect(throws: MessageError.self) { try MessageEncoder.appendHeaders(header, to: &out) }
        #expect(out == [7])
        #expect(throws: MessageError.self) {
            _ = try MessageEncoder.binaryMessage([], contentType: String(repeating: "y", count: 70_000))
        }
    }
}
