@_spi(Reference) import ConduitMessage
import Testing

/// Extra header keys: each appears once, with its last value, in the order of last
/// occurrences, in both decoders, and many distinct keys are handled in one pass.
@Suite("Extra header keys")
struct ExtraKeyTests {
    static func header(_ members: String) -> [UInt8] {
        Array(
            (#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 0"#
                + members + "}").utf8)
    }

    @Test func repeatedKeysKeepTheirLastValueAtTheirLastPlace() throws {
        let bytes = Self.header(#", "a": 1, "b": 2, "a": 3, "c": 4, "b": 5"#)
        let fast = try bytes.withUnsafeBytes { try JSONHeader.decode($0, limits: MessageLimits()) }
        let reference = try bytes.withUnsafeBytes { try JSONHeader.referenceDecode($0, limits: MessageLimits()) }
        #expect(fast.extra.map(\.key) == ["a", "c", "b"])
        #expect(fast.extra.map(\.value) == [.number("3"), .number("4"), .number("5")])
        #expect(fast == reference)
    }

    /// Keys that differ only by canonical equivalence are different keys (Python's dict
    /// keeps both), though Swift's `String ==` calls them equal.
    @Test func canonicallyEquivalentKeysAreDistinct() throws {
        let bytes = Self.header(#", "\u00e9": 1, "e\u0301": 2, "\u212a": 3, "K": 4"#)
        let fast = try bytes.withUnsafeBytes { try JSONHeader.decode($0, limits: MessageLimits()) }
        let reference = try bytes.withUnsafeBytes { try JSONHeader.referenceDecode($0, limits: MessageLimits()) }
        #expect(fast.extra.map { Array($0.key.unicodeScalars) } == [["\u{E9}"], ["e", "\u{301}"], ["\u{212A}"], ["K"]])
        #expect(fast == reference)
    }

    /// 4,000 distinct keys (about 60 KB, under the format's 65,535): every one kept, in
    /// order. (Its cost is measured in Benchmarks, not here.)
    @Test func manyDistinctKeysAreAllKept() throws {
        let members = (0..<4_000).map { #", "k\#($0)": 1"# }.joined()
        let bytes = Self.header(members)
        let limits = MessageLimits(maxHeaderBytes: 65_535)
        let decoded = try bytes.withUnsafeBytes { try JSONHeader.decode($0, limits: limits) }
        #expect(decoded.extra.count == 4_000)
        #expect(decoded.extra.first?.key == "k0")
        #expect(decoded.extra.last?.key == "k3999")
    }
}
