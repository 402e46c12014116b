import ConduitMessage
import Foundation
import Testing

/// Random headers, written by Foundation's JSONSerialization (a different writer with
/// different escaping and spacing), must decode to the same values with our parser;
/// and our writer's output must read back identically through Foundation.
@Suite("Agreement with Foundation on random headers")
struct FoundationAgreementTests {
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func string() -> String {
            let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "é", "🐶", "💍", "\u{7f}", "-"]
            return (0..<Int(next() % 12)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }.joined()
        }
    }

    @Test func randomHeadersAgree() throws {
        var random = Random(state: 42)
        for round in 0..<500 {
            var object: [String: Any] = [
                "byteorder": random.next() % 2 == 0 ? "little" : "big",
                "content-type": random.string(),
                "content-encoding": random.string(),
                "content-length": Int(random.next() % 100_000),
            ]
            let extraKey = "x-" + random.string()
            object[extraKey] = random.string()
            let data = try JSONSerialization.data(withJSONObject: object, options: round % 2 == 0 ? [.sortedKeys] : [])
            let limits = MessageLimits(maxContentLength: 1 << 30)
            let decoded = try Array(data).withUnsafeBytes { try JSONHeader.decode($0, limits: limits) }
            #expect(decoded.byteOrder == object["byteorder"] as? String)
            #expect(decoded.contentType.description == object["content-type"] as? String)
            #expect(decoded.contentEncoding == object["content-encoding"] as? String)
            #expect(decoded.contentLength == object["content-length"] as? Int)
            #expect(decoded.extra.count == 1)
            #expect(decoded.extra.first?.key == extraKey)
            #expect(decoded.extra.first?.value.stringValue == object[extraKey] as? String)

            var ours: [UInt8] = []
            try MessageEncoder.appendHeaders(decoded, to: &ours)
            let back = try JSONSerialization.jsonObject(with: Data(ours.dropFirst(2))) as? [String: Any]
            #expect(back?["content-type"] as? String == object["content-type"] as? String)
            #expect(back?["content-encoding"] as? String == object["content-encoding"] as? String)
            #expect(back?["content-length"] as? Int == object["content-length"] as? Int)
            #expect(back?[extraKey] as? String == object[extraKey] as? String)
        }
    }
}
