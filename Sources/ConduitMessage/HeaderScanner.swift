/// One pass over a JSON header object, recognizing the four required keys by their
/// raw bytes. Semantic problems (a wrong type, a bad length) are remembered and thrown
/// only once the whole text has proved to be valid JSON, so the error reported is the
/// same as the reference decoder's.
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
        var byteOrder: String?
        var contentType: String?
        var contentEncoding: String?
        var contentLength: Int?
        var extra: [(key: String, value: JSONValue)] = []
        var problem: MessageError?
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
                do {
                    switch key {
                    case .byteOrder: byteOrder = try stringValue("byteorder")
                    case .contentType: contentType = try stringValue("content-type")
                    case .contentEncoding: contentEncoding = try stringValue("content-encoding")
                    case .contentLength: contentLength = try lengthValue()
                    case .other:
                        let name = escapedName
                            ?? String(decoding: UnsafeRawBufferPointer(rebasing: parser.bytes[range]), as: UTF8.self)
                        let value = try parser.parseValue(depth: 1)
                        switch name {
                        // An escaped spelling of a known key is still that key.
                        case "byteorder": byteOrder = try JSONHeader.string(value, name)
                        case "content-type": contentType = try JSONHeader.string(value, name)
                        case "content-encoding": contentEncoding = try JSONHeader.string(value, name)
                        case "content-length": contentLength = try JSONHeader.length(value, limits: limits)
                        default:
                            extra.append((name, value))
                        }
                    }
                } catch let error as MessageError {
                    if problem == nil { problem = error }
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
        if let problem { throw problem }
        guard let byteOrder else { throw MessageError.missingKey("byteorder") }
        guard let contentType else { throw MessageError.missingKey("content-type") }
        guard let contentEncoding else { throw MessageError.missingKey("content-encoding") }
        guard let contentLength else { throw MessageError.missingKey("content-length") }
        return JSONHeader(
            contentType: ContentType(contentType), contentEncoding: contentEncoding, contentLength: contentLength,
            byteOrder: byteOrder, extra: JSONHeader.lastOccurrences(extra))
    }

    private static func known(_ raw: UnsafeRawBufferPointer) -> Key {
        if RawBytes.equals(raw, "byteorder") { return .byteOrder }
        if RawBytes.equals(raw, "content-type") { return .contentType }
        if RawBytes.equals(raw, "content-encoding") { return .contentEncoding }
        if RawBytes.equals(raw, "content-length") { return .contentLength }
        return .other
    }

    /// A string value; any other JSON value is parsed (so syntax is still checked) and
    /// reported as the wrong type.
    private mutating func stringValue(_ key: String) throws -> String {
        guard !parser.atEnd, parser.current == UInt8(ascii: "\"") else {
            let value = try parser.parseValue(depth: 1)
            return try JSONHeader.string(value, key)
        }
        return try parser.parseString()
    }

    /// A `content-length`: a JSON integer literal, non-negative, within the limit.
    private mutating func lengthValue() throws -> Int {
        guard !parser.atEnd, parser.current == UInt8(ascii: "-") || (parser.current >= 0x30 && parser.current <= 0x39) else {
            let value = try parser.parseValue(depth: 1)
            return try JSONHeader.length(value, limits: limits)
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
            return try JSONHeader.length(.number(String(decoding: raw, as: UTF8.self)), limits: limits)
        }
        return value
    }
}
