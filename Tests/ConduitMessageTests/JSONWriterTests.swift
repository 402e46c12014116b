import ConduitMessage
import Foundation
import Testing

/// The writer's output is JSON that parses back to the value it wrote, by our parser
/// and by Foundation's, for every escape and for long runs between them.
@Suite("JSON writer")
struct JSONWriterTests {
    /// Every byte that needs an escape, each between plain text (runs are copied whole,
    /// so their edges are where a slip would show).
    static let tricky: [String] = {
        var texts = (0..<0x20).map { "a\(Character(Unicode.Scalar($0)!))b" }
        texts += ["\"", "\\", "\"\\\"", "", "plain", "🐰 and 💍", "end\n", "\tstart", String(repeating: "x", count: 70_000) + "\"" + "y"]
        return texts
    }()

    @Test(arguments: tricky)
    func stringsRoundTrip(text: String) throws {
        let encoded = JSONWriter.encode(.string(text))
        #expect(try JSONParser.parse(encoded) == .string(text))
        let foundation = try JSONSerialization.jsonObject(with: Data(encoded), options: .fragmentsAllowed) as? String
        #expect(foundation == text)
    }

    /// Every text JSONTestSuite says must be accepted survives parse → write → parse.
    @Test(arguments: JSONSuiteTests.files("y_"))
    func acceptedTextsRoundTrip(name: String) throws {
        let value = try JSONParser.parse(try JSONSuiteTests.contents(name))
        #expect(try JSONParser.parse(JSONWriter.encode(value)) == value, "\(name)")
    }
}
