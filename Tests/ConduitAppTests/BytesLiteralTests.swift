import ConduitApp
import Testing

/// Bytes printed the way Python prints a `bytes` value, as the tutorial's transcripts do.
@Suite("bytes literals")
struct BytesLiteralTests {
    @Test func bytesLiteralMatchesPython() {
        #expect(bytesLiteral(Array("Hello, world".utf8)) == "b'Hello, world'")
        // Python's choice of quotes: double when there is a ' and no ", else single
        // (with ' escaped), as repr(b"it's"), repr(b'it\'s "x"').
        #expect(bytesLiteral([0x00, 0x67, 0x27, 0x5c, 0x0a, 0xf0]) == #"b"\x00g'\\\n\xf0""#)
        #expect(bytesLiteral(Array("it's".utf8)) == #"b"it's""#)
        #expect(bytesLiteral(Array(#"it's "x""#.utf8)) == #"b'it\'s "x"'"#)
        #expect(bytesLiteral(Array(#"say "x""#.utf8)) == #"b'say "x"'"#)
        #expect(bytesLiteral(Array("abcdef".utf8), limit: 2) == "b'ab' … (6 bytes)")
    }
}
