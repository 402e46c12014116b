import Conduit

extension RequestTemplate {
    /// A template written as text: bytes, escapes and fields in braces.
    ///
    /// - Escapes: `\r`, `\n`, `\t`, `\0`, `\\`, `\{`, `\}` and `\xNN` (any byte).
    /// - `{conn}`: the connection's number; `{seq}`: the request's number on its connection.
    /// - `{key:LOW-HIGH}`: a key drawn uniformly from LOW…HIGH; `{key:LOW-HIGH:zipf}`
    ///   (exponent 0.99) or `{key:LOW-HIGH:zipf=S}`: Zipf-distributed, the low keys hot.
    /// - `{random:N}`: N random letters.
    /// - `{NAME=FIELD}` names a field (`{k=key:1-1000}`) for a length to measure.
    /// - `{len:NAMES}`: the length of the named fields, in decimal (RESP's `$N`);
    ///   `{len8:…}`, `{len16be:…}`, `{len16le:…}`, `{len32be:…}`, `{len32le:…}`,
    ///   `{len64be:…}`, `{len64le:…}`: as a binary integer. NAMES is one name or several
    ///   joined by `+`, and may end with `+N`, a number of bytes to add.
    ///
    /// A RESP `GET` of a random key: `*2\r\n$3\r\nGET\r\n${len:k}\r\n{k=key:1-100000}\r\n`.
    public init(parsing text: String) throws(ScenarioError) {
        var fields: [Field] = []
        var names: [String: Int] = [:]
        // Lengths name fields that may come later: resolved at the end.
        var lengths: [(index: Int, names: [String], adding: Int, format: LengthFormat)] = []
        var literal: [UInt8] = []
        let bytes = Array(text.utf8)
        var position = 0

        func flush() {
            if !literal.isEmpty { fields.append(.bytes(literal)) }
            literal = []
        }

        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\\") {
                let (value, used) = try Self.escape(in: bytes, at: position)
                literal.append(value)
                position += used
                continue
            }
            guard byte == UInt8(ascii: "{") else {
                literal.append(byte)
                position += 1
                continue
            }
            guard let close = bytes[position...].firstIndex(of: UInt8(ascii: "}")) else {
                throw ScenarioError("a '{' at byte \(position) is not closed (write \\{ for the byte itself)")
            }
            flush()
            var spec = String(decoding: bytes[(position + 1)..<close], as: UTF8.self)
            position = close + 1
            if let equals = spec.firstIndex(of: "="), !spec[..<equals].contains(":") {
                let name = String(spec[..<equals])
                guard !name.isEmpty, names[name] == nil else { throw ScenarioError("the field name '\(name)' is empty or used twice") }
                names[name] = fields.count
                spec = String(spec[spec.index(after: equals)...])
            }
            if let (measured, adding, format) = try Self.length(spec) {
                lengths.append((fields.count, measured, adding, format))
                fields.append(.length(of: [], adding: adding, format))
            } else {
                fields.append(try Self.field(spec))
            }
        }
        flush()
        for length in lengths {
            let indices = try length.names.map { name throws(ScenarioError) -> Int in
                guard let index = names[name] else { throw ScenarioError("{len:…} names '\(name)', a field no one named") }
                return index
            }
            fields[length.index] = .length(of: indices, adding: length.adding, length.format)
        }
        try self.init(fields: fields)
    }

    /// The bytes a text with escapes stands for (a `--expect`, `--request` without fields).
    public static func unescaped(_ text: String) throws(ScenarioError) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var position = 0
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "\\") {
                let (value, used) = try escape(in: bytes, at: position)
                out.append(value)
                position += used
            } else {
                out.append(bytes[position])
                position += 1
            }
        }
        return out
    }

    /// The byte the escape at `position` stands for, and its length in the text.
    private static func escape(in bytes: [UInt8], at position: Int) throws(ScenarioError) -> (UInt8, Int) {
        guard position + 1 < bytes.count else { throw ScenarioError("a '\\' ends the text (write \\\\ for the byte itself)") }
        switch bytes[position + 1] {
        case UInt8(ascii: "r"): return (0x0d, 2)
        case UInt8(ascii: "n"): return (0x0a, 2)
        case UInt8(ascii: "t"): return (0x09, 2)
        case UInt8(ascii: "0"): return (0, 2)
        case UInt8(ascii: "\\"), UInt8(ascii: "{"), UInt8(ascii: "}"): return (bytes[position + 1], 2)
        case UInt8(ascii: "x"):
            guard position + 3 < bytes.count,
                let value = UInt8(String(decoding: bytes[(position + 2)...(position + 3)], as: UTF8.self), radix: 16)
            else { throw ScenarioError("\\x at byte \(position) needs two hex digits") }
            return (value, 4)
        default:
            throw ScenarioError("unknown escape '\\\(Character(UnicodeScalar(bytes[position + 1])))' at byte \(position) (\\r \\n \\t \\0 \\\\ \\{ \\} \\xNN)")
        }
    }

    /// A field other than a length.
    private static func field(_ spec: String) throws(ScenarioError) -> Field {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "conn" where parts.count == 1: return .connection
        case "seq" where parts.count == 1: return .sequence
        case "random" where parts.count == 2:
            guard let count = Int(parts[1]), count >= 0 else { throw ScenarioError("{random:N} needs a count, not '\(parts[1])'") }
            return .random(count)
        case "key" where parts.count == 2 || parts.count == 3:
            let bounds = parts[1].split(separator: "-").map { Int($0) }
            guard bounds.count == 2, let low = bounds[0], let high = bounds[1], low >= 0, low <= high else {
                throw ScenarioError("{key:LOW-HIGH} needs a range such as 1-1000, not '\(parts[1])'")
            }
            guard parts.count == 3 else { return .key(low...high, .uniform) }
            if parts[2] == "zipf" { return .key(low...high, .zipf(0.99)) }
            if parts[2].hasPrefix("zipf="), let exponent = Double(parts[2].dropFirst(5)), exponent > 0 {
                return .key(low...high, .zipf(exponent))
            }
            throw ScenarioError("a key's distribution is zipf or zipf=S (S > 0), not '\(parts[2])'")
        default:
            throw ScenarioError("unknown field {\(spec)}: conn, seq, key:LOW-HIGH, random:N, len:NAME")
        }
    }

    /// A length field (`len…:NAMES`), or nil if `spec` is another field.
    private static func length(_ spec: String) throws(ScenarioError) -> ([String], Int, LengthFormat)? {
        guard spec.hasPrefix("len"), let colon = spec.firstIndex(of: ":") else { return nil }
        let format: LengthFormat
        switch spec[..<colon] {
        case "len": format = .decimal
        case "len8": format = .binary(size: 1, byteOrder: .big)
        case "len16be": format = .binary(size: 2, byteOrder: .big)
        case "len16le": format = .binary(size: 2, byteOrder: .little)
        case "len32be": format = .binary(size: 4, byteOrder: .big)
        case "len32le": format = .binary(size: 4, byteOrder: .little)
        case "len64be": format = .binary(size: 8, byteOrder: .big)
        case "len64le": format = .binary(size: 8, byteOrder: .little)
        default: throw ScenarioError("unknown length {\(spec)}: len, len8, len16be, len16le, len32be, len32le, len64be, len64le")
        }
        var names = spec[spec.index(after: colon)...].split(separator: "+").map(String.init)
        var adding = 0
        if let last = names.last, let number = Int(last) {
            adding = number
            names.removeLast()
        }
        guard !names.isEmpty else { throw ScenarioError("{\(spec)} names no field to measure") }
        return (names, adding, format)
    }
}
