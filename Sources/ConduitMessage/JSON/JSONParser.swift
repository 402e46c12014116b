
/// A strict RFC 8259 JSON parser over raw bytes: UTF-8 is validated, control
/// characters in strings, leading zeros, trailing commas, a byte-order mark and
/// anything after the value are rejected; nesting is capped at `maxDepth`, and the
/// number of values (every scalar, array and object, at any depth) at `maxValues`, so
/// the time and memory one text can cost are bounded by more than its length.
///
/// It is checked against JSONTestSuite (every `y_` accepted, every `n_` rejected) and
/// against Foundation on random headers. `JSONHeader` uses its pieces directly so that
/// the hot path does not build a `JSONValue` tree.
public struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    let maxDepth: Int
    let maxValues: Int
    /// Values still allowed before `maxValues` is passed.
    var valuesLeft: Int

    /// Parses `bytes` as one JSON text. Allocates the resulting values.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512, maxValues: Int = .max
    ) throws(JSONError) -> JSONValue {
        guard UTF8Validation.isValid(bytes) else {
            throw JSONError(offset: UTF8Validation.firstInvalidOffset(bytes), reason: "invalid UTF-8")
        }
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth, maxValues: maxValues)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// Parses an array of bytes; see `parse(_:maxDepth:maxValues:)`.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 512, maxValues: Int = .max) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try parse(buffer, maxDepth: maxDepth, maxValues: maxValues) }
        }
        return try result.get()
    }

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int = 512, maxValues: Int = .max) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.maxValues = maxValues
        self.valuesLeft = maxValues
    }

    func error(_ reason: String) -> JSONError { JSONError(offset: index, reason: reason) }

    var atEnd: Bool { index >= bytes.count }

    @inline(__always)
    var current: UInt8 { bytes[index] }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0a, 0x0d: index += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONError) {
        guard !atEnd, current == byte else { throw error("expected \(what)") }
        index += 1
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard !atEnd else { throw error("unexpected end of input") }
        valuesLeft -= 1
        guard valuesLeft >= 0 else { throw error("more than \(maxValues) values") }
        switch current {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try scanNumber()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        default:
            throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count,
            UnsafeRawBufferPointer(rebasing: bytes[index..<index + count]).elementsEqual(
                UnsafeRawBufferPointer(start: word.utf8Start, count: count))
        else { throw error("invalid literal") }
        index += count
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if !atEnd && current == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a key")
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append((key, value))
            skipWhitespace()
            guard !atEnd else { throw error("unterminated object") }
            if current == UInt8(ascii: ",") {
                index += 1
            } else if current == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if !atEnd && current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard !atEnd else { throw error("unterminated array") }
            if current == UInt8(ascii: ",") {
                index += 1
            } else if current == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    /// Scans `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` and returns its range.
    mutating func scanNumber() throws(JSONError) -> Range<Int> {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        guard !atEnd, isDigit(current) else { throw error("invalid number") }
        if current == UInt8(ascii: "0") {
            index += 1
        } else {
            while !atEnd && isDigit(current) { index += 1 }
        }
        if !atEnd && current == UInt8(ascii: ".") {
            index += 1
            guard !atEnd, isDigit(current) else { throw error("invalid number: digits must follow '.'") }
            while !atEnd && isDigit(current) { index += 1 }
        }
        if !atEnd && (current == UInt8(ascii: "e") || current == UInt8(ascii: "E")) {
            index += 1
            if !atEnd && (current == UInt8(ascii: "+") || current == UInt8(ascii: "-")) { index += 1 }
            guard !atEnd, isDigit(current) else { throw error("invalid number: exponent needs digits") }
            while !atEnd && isDigit(current) { index += 1 }
        }
        return start..<index
    }

    @inline(__always)
    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Scans a string starting at its opening quote; returns the range of its raw
    /// contents (between the quotes) and whether it contains escapes. Input UTF-8 has
    /// been validated already, so only ASCII structure is checked here.
    mutating func scanString() throws(JSONError) -> (Range<Int>, escaped: Bool) {
        // Works on a local index, stored back before returning or throwing: the same
        // offsets in errors, without a load and store of `self.index` per byte.
        var at = index + 1
        let start = at
        var escaped = false
        defer { index = at }
        while true {
            at = Self.skipPlainStringBytes(bytes, from: at)
            guard at < bytes.count else { break }
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                at += 1
                return (start..<at - 1, escaped)
            }
            if byte < 0x20 { throw JSONError(offset: at, reason: "control character in string") }
            // A backslash.
            escaped = true
            at += 1
            guard at < bytes.count else { break }
            switch bytes[at] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                at += 1
            case UInt8(ascii: "u"):
                guard bytes.count - at > 4 else { throw JSONError(offset: at, reason: "truncated \\u escape") }
                for offset in 1...4 where hexValue(bytes[at + offset]) == nil {
                    throw JSONError(offset: at, reason: "invalid \\u escape")
                }
                at += 5
            default:
                throw JSONError(offset: at, reason: "invalid escape")
            }
        }
        throw JSONError(offset: at, reason: "unterminated string")
    }

    /// The first index from `index` on that holds a `"`, a `\` or a control byte (or
    /// the end): eight bytes tested at a time, since strings are mostly plain text.
    @inline(__always)
    static func skipPlainStringBytes(_ bytes: UnsafeRawBufferPointer, from index: Int) -> Int {
        guard let base = bytes.baseAddress else { return index }
        var at = index
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while at + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            // A byte is zero after the XOR exactly where it was the quote or backslash;
            // `(x - 0x01…) & ~x & 0x80…` flags zero bytes, and with 0x20… bytes below 0x20.
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5c)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            let flagged = special & highs
            if flagged != 0 {
                // Little-endian: the first byte in memory is the lowest in the word, and
                // the lowest flag is a real one (false flags only follow a real one,
                // through the borrow). Elsewhere, the bytes below say which it is.
                #if _endian(little)
                return at + flagged.trailingZeroBitCount / 8
                #else
                break
                #endif
            }
            at += 8
        }
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            at += 1
        }
        return at
    }

    mutating func parseString() throws(JSONError) -> String {
        let (range, escaped) = try scanString()
        let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
        return escaped ? try unescape(raw, at: range.lowerBound) : String(decoding: raw, as: UTF8.self)
    }

    func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Decodes the escapes of a scanned string. Lone UTF-16 surrogates have no Unicode
    /// scalar and are rejected (RFC 8259 leaves them to the implementation).
    func unescape(_ raw: UnsafeRawBufferPointer, at base: Int) throws(JSONError) -> String {
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var i = 0
        func flush() {
            if !utf8.isEmpty {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll(keepingCapacity: true)
            }
        }
        func hex4(_ at: Int) -> UInt32 {
            (hexValue(raw[at])! << 12) | (hexValue(raw[at + 1])! << 8) | (hexValue(raw[at + 2])! << 4)
                | hexValue(raw[at + 3])!
        }
        while i < raw.count {
            let byte = raw[i]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                i += 1
                continue
            }
            let kind = raw[i + 1]
            i += 2
            switch kind {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0c)
            case UInt8(ascii: "n"): utf8.append(0x0a)
            case UInt8(ascii: "r"): utf8.append(0x0d)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var code = hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(code) {
                    guard i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u") else {
                        throw JSONError(offset: base + i, reason: "unpaired UTF-16 surrogate")
                    }
                    let low = hex4(i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw JSONError(offset: base + i, reason: "unpaired UTF-16 surrogate")
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw JSONError(offset: base + i, reason: "unpaired UTF-16 surrogate")
                }
                flush()
                scalars.append(Unicode.Scalar(code)!)
            default: utf8.append(kind)  // \" \\ \/
            }
        }
        flush()
        return String(scalars)
    }
}

/// UTF-8 validation over raw bytes (overlongs, surrogates and values past U+10FFFF
/// are invalid), with an ASCII fast path.
package enum UTF8Validation {
    /// True when `bytes` is well-formed UTF-8.
    package static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstInvalidOffset(bytes) == bytes.count
    }

    /// The offset of the first byte of the first ill-formed sequence, or `count`.
    package static func firstInvalidOffset(_ bytes: UnsafeRawBufferPointer) -> Int {
        var i = 0
        let n = bytes.count
        guard let base = bytes.baseAddress else { return 0 }
        while i < n {
            // ASCII eight bytes at a time: headers and most content are all ASCII.
            while i + 8 <= n && base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
            }
            guard i < n else { break }
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            let b1 = bytes[i + 1]
            guard b1 >= lower && b1 <= upper else { return i }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return n
    }
}
