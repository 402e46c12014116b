/// One pass over a JSON header object, recognizing the four required keys by their
/// raw bytes. Semantic problems (a wrong type, a bad length) are remembered with their
/// key and thrown only once the whole text has proved to be valid JSON, and only for
/// the last occurrence of a repeated key (the one Python's `json.loads` keeps), so the
/// error reported is the same as the reference decoder's.
struct HeaderScanner {
    var parser: JSONParser
    let limits: MessageLimits

    private enum Key { case byteOrder, contentType, contentEncoding, contentLength, other }

    /// The header, or nil when the text does not start with `{` (the caller then uses
    /// the reference decoder, which tells "not an object" from "not JSON").
    mutating func scan() throws -> JSONHeader? {
        parser.skipWhitespace()
        guard !parser.atEnd, parser.current == UInt8(ascii: "{") else { return nil }
        parser.index += 1
        var fields = HeaderFields()
        var extra: [(key: String, value: JSONValue)] = []
        parser.skipWhitespace()
        if !parser.atEnd && parser.current == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                parser.skipWhitespace()
                guard !parser.atEnd, parser.current == UInt8(ascii: "\"") else { throw parser.error("expected a string key") }
                let (range, escaped) = try parser.scanString()
                // An escaped key is decoded now, before the ':' is checked, so a bad escape
                // is reported first, as the reference parser reports it.
                let escapedName = escaped
                    ? try parser.unescape(UnsafeRawBufferPointer(rebasing: parser.bytes[range]), at: range.lowerBound)
                    : nil
                let key = escaped ? Key.other : Self.known(UnsafeRawBufferPointer(rebasing: parser.bytes[range]))
                parser.skipWhitespace()
                try parser.expect(UInt8(ascii: ":"), "':' after a key")
                parser.skipWhitespace()
                switch key {
                case .byteOrder: fields.byteOrder = try stringValue("byteorder")
                case .contentType: fields.contentType = try stringValue("content-type")
                case .contentEncoding: fields.contentEncoding = try stringValue("content-encoding")
                case .contentLength: fields.contentLength = try lengthValue()
                case .other:
                    let name = escapedName
                        ?? String(decoding: UnsafeRawBufferPointer(rebasing: parser.bytes[range]), as: UTF8.self)
                    let value = try parser.parseValue(depth: 1)
                    // An escaped spelling of a known key is still that key.
                    if !fields.take(name, value, limits: limits) { extra.append((name, value)) }
                }
                parser.skipWhitespace()
                guard !parser.atEnd else { throw parser.error("unterminated object") }
                if parser.current == UInt8(ascii: ",") {
                    parser.index += 1
                } else if parser.current == UInt8(ascii: "}") {
                    parser.index += 1
                    break
                } else {
                    throw parser.error("expected ',' or '}'")
                }
            }
        }
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.error("unexpected data after the JSON value") }
        return try fields.header(extra: JSONHeader.lastOccurrences(extra))
    }

    private static func known(_ raw: UnsafeRawBufferPointer) -> Key {
        if RawBytes.equals(raw, "byteorder") { return .byteOrder }
        if RawBytes.equals(raw, "content-type") { return .contentType }
        if RawBytes.equals(raw, "content-encoding") { return .contentEncoding }
        if RawBytes.equals(raw, "content-length") { return .contentLength }
        return .other
    }

    /// A string value; any other JSON value is parsed too (a syntax error is thrown at
    /// once) and is the key's problem (kept, for when it is the key's last occurrence).
    private mutating func stringValue(_ key: String) throws -> Result<String, MessageError> {
        guard !parser.atEnd, parser.current == UInt8(ascii: "\"") else {
            let value = try parser.parseValue(depth: 1)
            return Result { () throws(MessageError) in try JSONHeader.string(value, key) }
        }
        return .success(try parser.parseString())
    }

    /// A `content-length`: a JSON integer literal, non-negative, within the limit (a
    /// syntax error is thrown at once; anything else wrong is kept, as for strings).
    private mutating func lengthValue() throws -> Result<Int, MessageError> {
        guard !parser.atEnd, parser.current == UInt8(ascii: "-") || (parser.current >= 0x30 && parser.current <= 0x39) else {
            let value = try parser.parseValue(depth: 1)
            return Result { () throws(MessageError) in try JSONHeader.length(value, limits: limits) }
        }
        let range = try parser.scanNumber()
        let raw = UnsafeRawBufferPointer(rebasing: parser.bytes[range])
        var value = 0
        var plainDigits = true
        for byte in raw {
            let (times, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times.addingReportingOverflow(Int(byte &- 0x30))
            guard byte >= 0x30 && byte <= 0x39, !overflowA, !overflowB else {
                // Not plain digits, or more than an Int holds: the reference words it.
                plainDigits = false
                break
            }
            value = sum
        }
        guard plainDigits, value <= limits.maxContentLength else {
            // Rare: let the reference check word the error.
            let text = String(decoding: raw, as: UTF8.self)
            return Result { () throws(MessageError) in try JSONHeader.length(.number(text), limits: limits) }
        }
        return .success(value)
    }
}

/// The four keys every header has, as their last occurrence left them: a value, or what
/// is wrong with it. Python's `json.loads` keeps the last of a repeated key, and the
/// tutorial's server checks only that one (`content-length` -1 then 41 is 41).
struct HeaderFields {
    var byteOrder: Result<String, MessageError>?
    var contentType: Result<String, MessageError>?
    var contentEncoding: Result<String, MessageError>?
    var contentLength: Result<Int, MessageError>?

    /// Records `value` if `name` is one of the four keys; false if it is not.
    mutating func take(_ name: String, _ value: JSONValue, limits: MessageLimits) -> Bool {
        switch name {
        case "byteorder": byteOrder = Result { () throws(MessageError) in try JSONHeader.string(value, name) }
        case "content-type": contentType = Result { () throws(MessageError) in try JSONHeader.string(value, name) }
        case "content-encoding": contentEncoding = Result { () throws(MessageError) in try JSONHeader.string(value, name) }
        case "content-length":
            contentLength = Result { () throws(MessageError) in try JSONHeader.length(value, limits: limits) }
        default: return false
        }
        return true
    }

    /// The header, or the first problem: a wrong value (in the order of the keys above),
    /// then a missing key.
    func header(extra: [(key: String, value: JSONValue)]) throws(MessageError) -> JSONHeader {
        let byteOrder = try self.byteOrder?.get()
        let contentType = try self.contentType?.get()
        let contentEncoding = try self.contentEncoding?.get()
        let contentLength = try self.contentLength?.get()
        guard let byteOrder else { throw .missingKey("byteorder") }
        guard let contentType else { throw .missingKey("content-type") }
        guard let contentEncoding else { throw .missingKey("content-encoding") }
        guard let contentLength else { throw .missingKey("content-length") }
        return JSONHeader(
            contentType: ContentType(contentType), contentEncoding: contentEncoding, contentLength: contentLength,
            byteOrder: byteOrder, extra: extra)
    }
}
