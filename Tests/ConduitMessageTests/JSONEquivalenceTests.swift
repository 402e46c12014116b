@testable import ConduitMessage
import Testing

/// `JSONValue.isEquivalent`: JSON data equal whatever its encoding.
@Suite("JSON equivalence")
struct JSONEquivalenceTests {
    func same(_ a: String, _ b: String) throws -> Bool {
        try JSONParser.parse(Array(a.utf8)).isEquivalent(to: JSONParser.parse(Array(b.utf8)))
    }

    @Test func encodingsOfTheSameData() throws {
        #expect(try same(#"{"a": 1, "b": [true, null]}"#, #"{"b":[true,null],"a":1}"#))
        #expect(try same(#"{"a": "\u00e9\ud83d\udc30"}"#, #"{"a": "é🐰"}"#))
        #expect(try same(#"{"a": 1, "a": 2}"#, #"{"a": 2}"#), "the last of repeated keys counts, as in Python")
        for (a, b) in [("1", "1.0"), ("1", "10e-1"), ("100", "1e2"), ("-0", "0"), ("0.0e5", "0"), ("1.5E+3", "1500"), ("-2", "-2.00")] {
            #expect(try same(a, b), "\(a) \(b)")
        }
    }

    @Test func differentData() throws {
        #expect(try !same(#"{"a": 1}"#, #"{"a": 1, "b": 1}"#))
        #expect(try !same(#"{"a": 1, "b": 2}"#, #"{"a": 1, "c": 2}"#))
        #expect(try !same("[1, 2]", "[2, 1]"), "arrays keep their order")
        #expect(try !same("1", "-1"))
        #expect(try !same("12345678901234567890", "12345678901234567891"), "no rounding through a Double")
        #expect(try !same("1", #""1""#))
        #expect(try !same("null", "false"))
        // Canonically equivalent but different scalars (NFC é, NFD e + combining acute):
        // Swift's == equates them, Python does not.
        #expect(try !same(#""\u00e9""#, #""e\u0301""#))
        #expect(try !same(#"{"\u00e9": 1}"#, #"{"e\u0301": 1}"#))
    }

    @Test func hugeExponentsCompareByText() {
        #expect(JSONNumber("1e99999999999999999999") == nil)
        #expect(JSONValue.number("1e99999999999999999999").isEquivalent(to: .number("1e99999999999999999999")))
        #expect(!JSONValue.number("1e99999999999999999999").isEquivalent(to: .number("10e99999999999999999998")))
    }
}
