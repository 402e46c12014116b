import ConduitMessage

/// A JSON value as Python's `str()` shows it after `json.loads`: the tutorial's server
/// puts request values into its answers with f-strings (`f"No match for '{query}'."`),
/// so answering byte for byte like it means writing `None`, `True`, `1000.0` and
/// `['a', 1]` where JSON has `null`, `true`, `1e3` and `["a", 1]`.
///
/// Written straight into bytes, one pass over the value, with a fast path for ASCII:
/// a 16 MiB list took its loop 2.5–3.4 s when this walked `Character`s. And bounded:
/// past `showLimit` bytes the text is not made at all (`str` returns nil), as the other
/// content limits stop work a request could make the server do.
enum PythonText {
    /// The longest text shown in an answer.
    static let showLimit = 1 << 20

    /// `str(value)`: a string as it is, anything else as `repr` would write it; nil when
    /// that would be longer than `limit` bytes.
    static func str(_ value: JSONValue, limit: Int = showLimit) -> String? {
        if case .string(let text) = value { return text.utf8.count <= limit ? text : nil }
        var writer = ReprWriter(limit: limit)
        guard writer.repr(value) else { return nil }
        return writer.text
    }

    /// `repr(value)` of the Python object `json.loads` makes of `value`, however long.
    static func repr(_ value: JSONValue) -> String {
        var writer = ReprWriter(limit: .max)
        _ = writer.repr(value)
        return writer.text
    }

    /// A JSON number as Python reads it: an integer (exact, any size) unless it has a
    /// fraction or exponent, then a float, whose shortest round-trip form Swift's
    /// `description` writes the way Python's `repr` does (`1000.0`, `1e+16`, `2.5e-07`).
    static func number(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }) else {
            // Python's int drops the sign of zero.
            return text.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "0") } ? "0" : text
        }
        guard let double = Double(text) else { return text }
        if double.isInfinite { return double < 0 ? "-inf" : "inf" }
        return double.description
    }

    /// Python's `repr` of a string (see `ReprWriter.string`).
    static func string(_ text: String) -> String {
        var writer = ReprWriter(limit: .max)
        writer.string(text)
        return writer.text
    }
}

/// Builds Python's `repr` of a JSON value as UTF-8 bytes, stopping once past `limit`.
struct ReprWriter {
    private var bytes: [UInt8] = []
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// What was written.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Writes `value`; false once the text is longer than `limit` (the rest unwritten).
    mutating func repr(_ value: JSONValue) -> Bool {
        switch value {
        case .null: append("None")
        case .bool(let flag): flag ? append("True") : append("False")
        case .number(let text): bytes.append(contentsOf: PythonText.number(text).utf8)
        case .string(let text): string(text)
        case .array(let items):
            append("[")
            for (index, item) in items.enumerated() {
                if index > 0 { append(", ") }
                guard repr(item) else { return false }
            }
            append("]")
        case .object(let members):
            // A dict keeps a repeated key where it first appeared, with the last value; keys
            // are repeated only with the same scalars (Python compares code points).
            var order: [ScalarKey] = []
            var values: [ScalarKey: JSONValue] = [:]
            for (key, member) in members {
                if values.updateValue(member, forKey: ScalarKey(key)) == nil { order.append(ScalarKey(key)) }
            }
            append("{")
            for (index, key) in order.enumerated() {
                if index > 0 { append(", ") }
                string(key.text)
                append(": ")
                guard repr(values[key]!) else { return false }
            }
            append("}")
        }
        return bytes.count <= limit
    }

    /// Python's `repr` of a string: single quotes unless the text has a single quote
    /// and no double quote; backslash, the quote, `\t`, `\n`, `\r` escaped; other
    /// characters Python does not count as printable as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
    mutating func string(_ text: String) {
        let utf8 = text.utf8
        let quote = utf8.contains(UInt8(ascii: "'")) && !utf8.contains(UInt8(ascii: "\"")) ? UInt8(ascii: "\"") : UInt8(ascii: "'")
        bytes.reserveCapacity(bytes.count + utf8.count + 2)
        bytes.append(quote)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                let byte = UInt8(value)
                switch byte {
                case UInt8(ascii: "\\"): append("\\\\")
                case UInt8(ascii: "\t"): append("\\t")
                case UInt8(ascii: "\n"): append("\\n")
                case UInt8(ascii: "\r"): append("\\r")
                case quote:
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(quote)
                case 0x20..<0x7F: bytes.append(byte)
                default: escape(value)
                }
            } else if Self.isPrintable(scalar) {
                UTF8.encode(scalar) { bytes.append($0) }
            } else {
                escape(value)
            }
        }
        bytes.append(quote)
    }

    /// Python's `str.isprintable` for one character beyond ASCII: not a control,
    /// format, surrogate, private-use or unassigned code point, nor a separator.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator:
            return false
        default:
            return true
        }
    }

    private mutating func escape(_ value: UInt32) {
        let (prefix, width): (StaticString, Int) = value < 0x100 ? ("\\x", 2) : value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
        append(prefix)
        for shift in stride(from: (width - 1) * 4, through: 0, by: -4) {
            let digit = UInt8((value >> UInt32(shift)) & 0xF)
            bytes.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
    }
}
