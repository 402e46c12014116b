/// Writes JSON exactly as Python's `json.dumps(value, ensure_ascii=False)` does, the
/// way the tutorial encodes headers and content: separators `", "` and `": "`,
/// non-ASCII characters raw as UTF-8, `"` and `\` and control characters escaped.
public enum JSONWriter {
    /// Appends `value` to `out`.
    package static func write(_ value: JSONValue, into out: inout [UInt8]) { write(value, to: &out) }

    /// Writes `value` into room counted with `encodedCount`.
    package static func write(_ value: JSONValue, into out: inout RawByteWriter) { write(value, to: &out) }

    private static func write<Sink: ByteSink>(_ value: JSONValue, to out: inout Sink) {
        switch value {
        case .null: appendLiteral("null", to: &out)
        case .bool(let flag): flag ? appendLiteral("true", to: &out) : appendLiteral("false", to: &out)
        case .number(let text): appendUTF8(text, to: &out)
        case .string(let text): writeString(text, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { appendLiteral(", ", to: &out) }
                write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { appendLiteral(", ", to: &out) }
                writeString(member.key, into: &out)
                appendLiteral(": ", to: &out)
                write(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// How many bytes `write` appends for `value`, without writing it: lets a message
    /// header carry the content's length before the content is written.
    package static func encodedCount(_ value: JSONValue) -> Int {
        switch value {
        case .null: return 4
        case .bool(let flag): return flag ? 4 : 5
        case .number(let text): return text.utf8.count
        case .string(let text): return encodedCount(ofString: text)
        case .array(let elements):
            return 2 + max(elements.count - 1, 0) * 2 + elements.reduce(0) { $0 + encodedCount($1) }
        case .object(let members):
            return 2 + max(members.count - 1, 0) * 2
                + members.reduce(0) { $0 + encodedCount(ofString: $1.key) + 2 + encodedCount($1.value) }
        }
    }

    /// The bytes `writeString` appends for `text`, quotes included.
    package static func encodedCount(ofString text: String) -> Int {
        withUTF8(of: text) { raw in
            let bytes = raw
            var count = 2 + bytes.count
            var at = JSONParser.skipPlainStringBytes(raw, from: 0)
            while at < bytes.count {
                switch bytes[at] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0a, 0x0d, 0x09, 0x08, 0x0c: count += 1
                case 0..<0x20: count += 5
                default: break
                }
                at = JSONParser.skipPlainStringBytes(raw, from: at + 1)
            }
            return count
        }
    }

    /// Appends the bytes of a literal.
    @inline(__always)
    package static func appendLiteral<Sink: ByteSink>(_ literal: StaticString, to out: inout Sink) {
        out.append(bytes: UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends the UTF-8 of `text` as it is.
    @inline(__always)
    static func appendUTF8<Sink: ByteSink>(_ text: String, to out: inout Sink) {
        withUTF8(of: text) { out.append(bytes: $0) }
    }

    /// Calls `body` with the UTF-8 of `text`: in place for a native string, with no copy
    /// of it (`var copy = text; copy.withUTF8` retained and released its storage, about
    /// 60 instructions per string written), else from a contiguous copy.
    @inline(__always)
    static func withUTF8<Result>(of text: String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if let result = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var copy = text
        return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    /// `value` as JSON bytes.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out)
        return out
    }

    /// `value` as JSON text.
    public static func text(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Appends `text` as a quoted JSON string.
    package static func writeString<Sink: ByteSink>(_ text: String, into out: inout Sink) {
        withUTF8(of: text) { raw in
            out.append(UInt8(ascii: "\""))
            // Runs that need no escape are copied whole, found eight bytes at a time: one
            // byte at a time, a 16 MiB string took a third of a second.
            var runStart = 0
            var at = JSONParser.skipPlainStringBytes(raw, from: 0)
            while at < raw.count {
                out.append(bytes: UnsafeRawBufferPointer(rebasing: raw[runStart..<at]))
                appendEscaped(raw[at], to: &out)
                runStart = at + 1
                at = JSONParser.skipPlainStringBytes(raw, from: runStart)
            }
            out.append(bytes: UnsafeRawBufferPointer(rebasing: raw[runStart...]))
            out.append(UInt8(ascii: "\""))
        }
    }

    /// The escape sequence JSON uses for a quote, a backslash or a control byte.
    private static func appendEscaped<Sink: ByteSink>(_ byte: UInt8, to out: inout Sink) {
        switch byte {
        case UInt8(ascii: "\""): appendLiteral("\\\"", to: &out)
        case UInt8(ascii: "\\"): appendLiteral("\\\\", to: &out)
        case 0x0a: appendLiteral("\\n", to: &out)
        case 0x0d: appendLiteral("\\r", to: &out)
        case 0x09: appendLiteral("\\t", to: &out)
        case 0x08: appendLiteral("\\b", to: &out)
        case 0x0c: appendLiteral("\\f", to: &out)
        default:
            let digits: StaticString = "0123456789abcdef"
            appendLiteral("\\u00", to: &out)
            out.append(digits.utf8Start[Int(byte >> 4)])
            out.append(digits.utf8Start[Int(byte & 0xf)])
        }
    }
}
