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
        out.append(contentsOf: String(header.contentLength).utf8)
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
