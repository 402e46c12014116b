import ConduitMessage

/// A JSON value as Python's `str()` shows it after `json.loads`: the tutorial's server
/// puts request values into its answers with f-strings (`f"No match for '{query}'."`),
/// so answering byte for byte like it means writing `None`, `True`, `1000.0` and
/// `['a', 1]` where JSON has `null`, `true`, `1e3` and `["a", 1]`.
enum PythonText {
    /// `str(value)`: a string as it is, anything else as `repr` would write it.
    static func str(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return repr(value)
    }

    /// `repr(value)` of the Python object `json.loads` makes of `value`.
    static func repr(_ value: JSONValue) -> String {
        switch value {
        case .null: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .number(let text): return number(text)
        case .string(let text): return string(text)
        case .array(let items): return "[" + items.map(repr).joined(separator: ", ") + "]"
        case .object(let members):
            // A dict keeps a repeated key where it first appeared, with the last value; keys
            // are repeated only with the same scalars (Python compares code points).
            var order: [ScalarKey] = []
            var values: [ScalarKey: JSONValue] = [:]
            for (key, member) in members {
                if values.updateValue(member, forKey: ScalarKey(key)) == nil { order.append(ScalarKey(key)) }
            }
            return "{" + order.map { string($0.text) + ": " + repr(values[$0]!) }.joined(separator: ", ") + "}"
        }
    }

    /// A JSON number as Python reads it: an integer (exact, any size) unless it has a
    /// fraction or exponent, then a float, whose shortest round-trip form Swift's
    /// `description` writes the way Python's `repr` does (`1000.0`, `1e+16`, `2.5e-07`).
    static func number(_ text: String) -> String {
        guard text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            // Python's int drops the sign of zero.
            return text.allSatisfy { $0 == "-" || $0 == "0" } ? "0" : text
        }
        guard let double = Double(text) else { return text }
        if double.isInfinite { return double < 0 ? "-inf" : "inf" }
        return double.description
    }

    /// Python's `repr` of a string: single quotes unless the text has a single quote
    /// and no double quote; backslash, the quote, `\t`, `\n`, `\r` escaped; other
    /// characters Python does not count as printable as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
    static func string(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case _ where Character(scalar) == quote: out += "\\" + String(quote)
            case _ where isPrintable(scalar): out.unicodeScalars.append(scalar)
            default: out += escaped(scalar.value)
            }
        }
        out.append(quote)
        return out
    }

    /// Python's `str.isprintable` for one character: not a control, format, surrogate,
    /// private-use or unassigned code point, nor a separator other than the space.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator:
            return false
        default:
            return true
        }
    }

    private static func escaped(_ value: UInt32) -> String {
        let (prefix, width) = value < 0x100 ? ("\\x", 2) : value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
        let hex = String(value, radix: 16)
        return prefix + String(repeating: "0", count: width - hex.count) + hex
    }
}
