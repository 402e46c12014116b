/// Equality of JSON values as data rather than as text, for receivers that accept any
/// valid encoding of an answer (`conduit load --compare semantic`).
extension JSONValue {
    /// True when `self` and `other` are the same JSON data, whatever their encoding:
    /// object members compare as a dictionary (order ignored; of repeated keys the last
    /// counts, as Python's `json` reads them), numbers by decimal value (`1`, `1.0` and
    /// `10e-1` are equal; an exponent beyond ±10^15 compares by text), strings by Unicode
    /// scalars (escapes are already decoded; Swift's `==` would also equate canonically
    /// equivalent spellings, which Python tells apart). Allocates for objects with many
    /// members; linear in their size otherwise.
    package func isEquivalent(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b || JSONNumber(a).map { $0 == JSONNumber(b) } ?? false
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        case (.object(let a), .object(let b)):
            let left = Self.lastOccurrences(a)
            let right = Self.lastOccurrences(b)
            guard left.count == right.count else { return false }
            return left.allSatisfy { key, value in right[key].map { value.isEquivalent(to: $0) } ?? false }
        default: return false
        }
    }

    /// The members as a dictionary, the last of repeated keys winning; keyed by scalars,
    /// not `String`, so that keys Python tells apart stay apart.
    private static func lastOccurrences(_ members: [(key: String, value: JSONValue)]) -> [ScalarKey: JSONValue] {
        var result: [ScalarKey: JSONValue] = [:]
        result.reserveCapacity(members.count)
        for (key, value) in members { result[ScalarKey(key)] = value }
        return result
    }
}

/// A JSON number reduced to sign, significant digits and exponent, so that two
/// spellings of one decimal value compare equal without converting to a binary float
/// (which would equate different large integers).
struct JSONNumber: Equatable {
    let negative: Bool
    /// Significant digits, no leading or trailing zeros; empty for zero.
    let digits: [UInt8]
    /// The value is `digits × 10^exponent`.
    let exponent: Int

    /// Reduces `text`, which the parser has already checked against the JSON number
    /// grammar; nil when its exponent is too large to reduce exactly.
    init?(_ text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var digits: [UInt8] = []
        var exponent = 0
        while index < bytes.count, Self.isDigit(bytes[index]) {
            digits.append(bytes[index])
            index += 1
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, Self.isDigit(bytes[index]) {
                digits.append(bytes[index])
                exponent -= 1
                index += 1
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var sign = 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                if bytes[index] == UInt8(ascii: "-") { sign = -1 }
                index += 1
            }
            var written = 0
            while index < bytes.count, Self.isDigit(bytes[index]) {
                written = written * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                // Past 10^15 the sum below could overflow for long fractions; such
                // numbers are compared by their text instead.
                if written > 1_000_000_000_000_000 { return nil }
                index += 1
            }
            exponent += sign * written
        }
        guard index == bytes.count else { return nil }
        // Leading zeros carry nothing; trailing ones move into the exponent.
        let firstSignificant = digits.firstIndex { $0 != UInt8(ascii: "0") } ?? digits.count
        digits.removeFirst(firstSignificant)
        while let last = digits.last, last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty {
            // Zero: -0 and 0 are the same value (Python: -0 == 0), whatever the exponent.
            negative = false
            exponent = 0
        }
        self.negative = negative
        self.digits = digits
        self.exponent = exponent
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
