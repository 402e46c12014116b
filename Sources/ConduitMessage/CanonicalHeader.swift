/// The JSON header in the one form nearly every peer writes — ours, and Python's
/// `json.dumps` of the tutorial's dictionary: the four keys in order, `", "` and `": "`
/// separators, plain ASCII strings, a plain integer length:
///
///     {"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}
///
/// Recognized by comparing bytes, with no JSON scanning and no string validation
/// beyond "printable ASCII without `"` or `\`". Anything else — other spacing or
/// order, escapes, extra keys, non-ASCII, a length with a leading zero or over the
/// limit — is not decided here: `decode` returns nil and the general decoder (which
/// also words every error) takes it, so both paths give the same header for the same
/// bytes (the decoder agreement tests and fuzz target check the pair).
enum CanonicalHeader {
    /// The header of nearly every request: everything up to the length's digits.
    private static let commonPrefix: StaticString =
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#

    static func decode(_ bytes: UnsafeRawBufferPointer, limits: MessageLimits) -> JSONHeader? {
        var at = 0
        let byteOrder: String
        let contentType: ContentType
        let contentEncoding: String
        if RawBytes.hasPrefix(commonPrefix, in: bytes) {
            // The most common header of all, in one comparison of 87 bytes.
            at = commonPrefix.utf8CodeUnitCount
            (byteOrder, contentType, contentEncoding) = ("little", .json, "utf-8")
        } else {
            guard skip(#"{"byteorder": ""#, bytes, &at), let order = plainString(bytes, &at),
                skip(#"", "content-type": ""#, bytes, &at), let type = plainString(bytes, &at),
                skip(#"", "content-encoding": ""#, bytes, &at), let encoding = plainString(bytes, &at),
                skip(#"", "content-length": "#, bytes, &at)
            else { return nil }
            (byteOrder, contentType, contentEncoding) = (order, type == "text/json" ? .json : .other(type), encoding)
        }
        guard let contentLength = plainLength(bytes, &at, limit: limits.maxContentLength),
            at == bytes.count - 1, bytes[at] == UInt8(ascii: "}")
        else { return nil }
        return JSONHeader(
            contentType: contentType, contentEncoding: contentEncoding, contentLength: contentLength, byteOrder: byteOrder)
    }

    /// Steps over `literal` if the bytes at `at` are exactly it.
    @inline(__always)
    private static func skip(_ literal: StaticString, _ bytes: UnsafeRawBufferPointer, _ at: inout Int) -> Bool {
        guard RawBytes.hasPrefix(literal, in: bytes, at: at) else { return false }
        at += literal.utf8CodeUnitCount
        return true
    }

    /// The string from `at` up to (not including) the next `"`, if every byte in it is
    /// printable ASCII other than `\`; `at` is left on the closing quote. The common
    /// values come back as literals, which cost nothing to make.
    private static func plainString(_ bytes: UnsafeRawBufferPointer, _ at: inout Int) -> String? {
        // The values nearly every header carries, each with its closing quote.
        if RawBytes.hasPrefix(#"little""#, in: bytes, at: at) { at += 6; return "little" }
        if RawBytes.hasPrefix(#"text/json""#, in: bytes, at: at) { at += 9; return "text/json" }
        if RawBytes.hasPrefix(#"utf-8""#, in: bytes, at: at) { at += 5; return "utf-8" }
        if RawBytes.hasPrefix(#"binary""#, in: bytes, at: at) { at += 6; return "binary" }
        if RawBytes.hasPrefix(#"big""#, in: bytes, at: at) { at += 3; return "big" }
        let start = at
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\\") else { return nil }
            at += 1
        }
        guard at < bytes.count else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
    }

    /// A length written as JSON writes an integer (no sign, no leading zero), at most
    /// `limit`; anything else is left to the general decoder to word.
    private static func plainLength(_ bytes: UnsafeRawBufferPointer, _ at: inout Int, limit: Int) -> Int? {
        let start = at
        var value = 0
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
            // 18 digits cannot overflow; longer is not a length anyone means.
            guard at - start < 18 else { return nil }
            value = value * 10 + Int(bytes[at] &- UInt8(ascii: "0"))
            at += 1
        }
        let digits = at - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0"), value <= limit else { return nil }
        return value
    }
}
