import ConduitMessage
import Testing

/// `JSONObjectView` checks a text exactly as `JSONParser.parse` does — the same verdict
/// and the same error at the same offset — on all of JSONTestSuite, and finds members as
/// the parsed object's subscript does.
@Suite("JSON object read in place")
struct ObjectViewTests {
    /// Every input in one test, so a run prints one line for the corpus, not one per file.
    @Test func everyFileValidatesAsTheParserParses() throws {
        for name in JSONSuiteTests.files("y_") + JSONSuiteTests.files("n_") + JSONSuiteTests.files("i_") {
            do { try validatesAsTheParserParses(name: name) } catch { Issue.record("\(name): \(error)") }
        }
    }

    func validatesAsTheParserParses(name: String) throws {
        let bytes = try JSONSuiteTests.contents(name)
        let parsed = Result { () throws(JSONError) in try JSONParser.parse(bytes, maxDepth: 64, maxValues: 1000) }
        let viewed = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try JSONObjectView.validate(buffer, maxDepth: 64, maxValues: 1000)?.value }
        }
        switch (parsed, viewed) {
        case (.failure(let a), .failure(let b)): #expect(a == b, "\(name)")
        case (.success(let value), .success(let object)):
            if case .object = value { #expect(object == value, "\(name)") } else { #expect(object == nil, "\(name)") }
        default: Issue.record("\(name): the parser said \(parsed), the view \(viewed)")
        }
    }

    static let objects: [String] = [
        #"{"action": "search", "value": "morpheus"}"#,
        #"{"action": "a", "action": "b", "value": 1}"#,
        #"{"act\u0069on": "escaped key", "value": "v\u00e9"}"#,
        #"{"action": {"action": "nested"}, "value": [1, {"value": 2}]}"#,
        #"{"é": 1, "e\u0301": 2, "value": "🐶"}"#,
        #"  {  "value" : null , "action":"x"  }  "#,
        #"{}"#,
    ]

    @Test(arguments: objects)
    func findsMembersAsTheTreeDoes(text: String) throws {
        let tree = try JSONParser.parse(Array(text.utf8))
        try Array(text.utf8).withUnsafeBytes { buffer in
            let view = try #require(try JSONObjectView.validate(buffer))
            #expect(view.value == tree)
            for key in ["action", "value", "é", "e\u{301}", "missing", "act"] {
                #expect(view[key] == tree[key], "\(key) in \(text)")
                let plain = view.plainString(key).map { String(decoding: $0, as: UTF8.self) }
                if let plain { #expect(.string(plain) == tree[key], "\(key) in \(text)") }
            }
        }
    }

    @Test func plainStringLeavesEscapesToTheSubscript() throws {
        let text = Array(#"{"value": "a\nb", "other": "plain"}"#.utf8)
        try text.withUnsafeBytes { buffer in
            let view = try #require(try JSONObjectView.validate(buffer))
            #expect(view.plainString("value") == nil)
            #expect(view["value"] == .string("a\nb"))
            #expect(view.plainString("other").map { Array($0) } == Array("plain".utf8))
        }
    }
}
