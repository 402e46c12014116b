/// Writes messages byte-exact with the tutorial's encoder: proto header, then the JSON
/// header with keys in the order `byteorder`, `content-type`, `content-encoding`,
/// `content-length` (then any extra keys), in `json.dumps` form.
public enum MessageEncoder {
    /// Appends the proto header and JSON header for `header` to `out`. Throws
    /// `.headerTooLong` (and leaves `out` as it was) when the JSON header would not fit
    /// the 2-byte length.
    public static func appendHeaders(_ header: JSONHeader, to out: inout [UInt8]) throws(MessageError) {
        let lengthAt = out.count
        out.append(0)
        out.append(0)
        out.append(contentsOf: #"{"byteorder": "#.utf8)
        JSONWriter.writeString(header.byteOrder, into: &out)
        out.append(contentsOf: #", "content-type": "#.utf8)
        JSONWriter.writeString(header.contentType.description, into: &out)
        out.append(contentsOf: #", "content-encoding": "#.utf8)
        JSONWriter.writeString(header.contentEncoding, into: &out)
        out.append(contentsOf: #", "content-length": "#.utf8)
        appendDecimal(header.contentLength, to: &out)
        for (key, value) in header.extra {
            out.append(contentsOf: ", ".utf8)
            JSONWriter.writeString(key, into: &out)
            out.append(contentsOf: ": ".utf8)
            JSONWriter.write(value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        let length = out.count - lengthAt - ProtoHeader.size
        guard length <= ProtoHeader.maxHeaderLength else {
            out.removeSubrange(lengthAt...)
            throw .headerTooLong(length: length, limit: ProtoHeader.maxHeaderLength)
        }
        out[lengthAt] = UInt8(length >> 8)
        out[lengthAt + 1] = UInt8(length & 0xff)
    }

    /// Appends a whole `text/json`, `utf-8` message from this machine (the header every
    /// answer of the application carries) whose content `writeContent` appends: exactly
    /// `contentCount` bytes, or this traps. The header is fixed text and the length's
    /// digits, copied rather than encoded.
    public static func appendJSONMessage(
        contentCount: Int, to out: inout [UInt8], _ writeContent: (inout [UInt8]) -> Void
    ) {
        writeJSONMessage(contentCount: contentCount, to: &out, writeContent)
    }

    /// `appendJSONMessage` into room counted with `jsonMessageSize` (straight into a
    /// connection's output, with `Connection.writeInPlace`).
    package static func writeJSONMessage(
        contentCount: Int, into out: inout RawByteWriter, _ writeContent: (inout RawByteWriter) -> Void
    ) {
        writeJSONMessage(contentCount: contentCount, to: &out, writeContent)
    }

    /// The whole size of that message.
    package static func jsonMessageSize(contentCount: Int) -> Int {
        ProtoHeader.size + jsonHeaderPrefix.utf8CodeUnitCount + decimalCount(contentCount) + 1 + contentCount
    }

    private static let jsonHeaderPrefix: StaticString = UInt16(1).littleEndian == 1
        ? #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#
        : #"{"byteorder": "big", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#

    @inline(__always)
    private static func writeJSONMessage<Sink: ByteSink>(
        contentCount: Int, to out: inout Sink, _ writeContent: (inout Sink) -> Void
    ) {
        // Fixed keys and at most 19 digits: far below the 2-byte length's limit.
        let headerLength = jsonHeaderPrefix.utf8CodeUnitCount + decimalCount(contentCount) + 1
        out.append(UInt8(headerLength >> 8))
        out.append(UInt8(headerLength & 0xff))
        JSONWriter.appendLiteral(jsonHeaderPrefix, to: &out)
        appendDecimal(contentCount, to: &out)
        out.append(UInt8(ascii: "}"))
        let contentStart = out.count
        writeContent(&out)
        precondition(out.count - contentStart == contentCount, "content of \(out.count - contentStart) bytes announced as \(contentCount)")
    }

    /// How many decimal digits `value` (not negative) has.
    static func decimalCount(_ value: Int) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// Appends the decimal digits of `value` (not negative) without making a `String`.
    static func appendDecimal<Sink: ByteSink>(_ value: Int, to out: inout Sink) {
        precondition(value >= 0)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value
            var at = digits.count
            repeat {
                at -= 1
                digits[at] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            out.append(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: digits[at...])))
        }
    }

    /// Appends a whole message: headers for `content`, then `content`. Throws
    /// `.headerTooLong` when the header would not fit.
    public static func append(
        contentType: ContentType, contentEncoding: String, content: UnsafeRawBufferPointer, to out: inout [UInt8]
    ) throws(MessageError) {
        let header = JSONHeader(contentType: contentType, contentEncoding: contentEncoding, contentLength: content.count)
        try appendHeaders(header, to: &out)
        out.append(contentsOf: content)
    }

    /// A whole `text/json`, `utf-8` message carrying `value` (its header is fixed and
    /// small, so this cannot fail).
    public static func jsonMessage(_ value: JSONValue) -> [UInt8] {
        let content = JSONWriter.encode(value)
        var out: [UInt8] = []
        content.withUnsafeBytes {
            // The header holds only fixed keys and a number: far below 65,535 bytes.
            try! append(contentType: .json, contentEncoding: "utf-8", content: $0, to: &out)
        }
        return out
    }

    /// A whole binary message carrying `content`; throws `.headerTooLong` when
    /// `contentType` makes the header too long for the 2-byte length.
    public static func binaryMessage(_ content: [UInt8], contentType: String) throws(MessageError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.count + 128)
        let header = JSONHeader(contentType: ContentType(contentType), contentEncoding: "binary", contentLength: content.count)
        try appendHeaders(header, to: &out)
        out.append(contentsOf: content)
        return out
    }
}
