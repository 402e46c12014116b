@_spi(Reference) import ConduitMessage
import Testing

/// The one-pass header decoder against the tree-building reference: the same header or
/// the same error, on valid headers, every kind of malformed one, and mutations of both.
@Suite("One-pass header decoder agrees with the reference")
struct HeaderDecoderAgreementTests {
    static let samples: [String] = [
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}"#,
        #"{"content-length":0,"byteorder":"big","content-encoding":"binary","content-type":"binary/custom-client-binary-type"}"#,
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41, "x": [1, {"y": null}], "x": true}"#,
        #"{"by\u0074eorder": "big", "content-type": "a", "content-encoding": "b", "content\u002dlength": 3}"#,
        #"{"byteorder": 1, "content-type": "a", "content-encoding": "b", "content-length": 3}"#,
        #"{"byteorder": "b", "content-type": "a", "content-encoding": "b", "content-length": -3}"#,
        #"{"byteorder": "b", "content-type": "a", "content-encoding": "b", "content-length": 3.5}"#,
        #"{"byteorder": "b", "content-type": "a", "content-encoding": "b", "content-length": 1e2}"#,
        #"{"byteorder": "b", "content-type": "a", "content-encoding": "b", "content-length": "3"}"#,
        #"{"byteorder": "b", "content-type": "a", "content-encoding": "b", "content-length": 99999999999999999999999}"#,
        #"{"byteorder": "b", "content-type": "a", "content-encoding": "b", "content-length": 3, "content-length": 4}"#,
        #"{"byteorder": "b", "content-length": "x", "content-type": 5}"#,
        #"{"byteorder": "b", "content-type": 7, "content-encoding": "b", "content-length": 3,}"#,
        // The canonical form, which a byte-comparing fast path takes, at its edges.
        #"{"byteorder": "big", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": 0}"#,
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 041}"#,
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 1000001}"#,
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 1000000}"#,
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 1234567890123456789}"#,
        #"{"byteorder": "lïttle", "content-type": "te\xt", "content-encoding": "", "content-length": 7}"#,
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41} "#,
        #"{}"#, #"[]"#, #"[1, 2"#, #"  {"a": 1}  x"#, #""#, #"{"a" 1}"#, #"{"content-type": "\ud800"}"#, "\u{FEFF}{}",
    ]

    static func outcome(_ text: [UInt8], _ decode: (UnsafeRawBufferPointer, MessageLimits) throws(MessageError) -> JSONHeader)
        -> Result<JSONHeader, MessageError>
    {
        let limits = MessageLimits(maxContentLength: 1_000_000)
        return text.withUnsafeBytes { bytes in Result { () throws(MessageError) in try decode(bytes, limits) } }
    }

    @Test(arguments: samples)
    func agreesOnSamples(text: String) {
        let bytes = Array(text.utf8)
        #expect(Self.outcome(bytes, JSONHeader.decode) == Self.outcome(bytes, JSONHeader.referenceDecode), "\(text)")
    }

    /// Every sample with each byte replaced, deleted or duplicated in turn.
    @Test func agreesOnMutations() {
        var checked = 0
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            for index in bytes.indices {
                var mutations = [bytes]
                mutations.append(Array(bytes[..<index] + bytes[(index + 1)...]))
                mutations.append(Array(bytes[...index] + bytes[index...]))
                for replacement: UInt8 in [0x22, 0x7d, 0x2c, 0x30, 0x5c, 0xff] {
                    var changed = bytes
                    changed[index] = replacement
                    mutations.append(changed)
                }
                for mutation in mutations {
                    #expect(
                        Self.outcome(mutation, JSONHeader.decode) == Self.outcome(mutation, JSONHeader.referenceDecode),
                        "\(String(decoding: mutation, as: UTF8.self))")
                    checked += 1
                }
            }
        }
        #expect(checked > 10_000)
    }
}
