/// Looks up an object's members by name: a parsed `JSONValue` or a `JSONObjectView`
/// read in place, so one handler can serve both.
public protocol JSONMemberLookup {
    /// The member named `key` (the last one if repeated), or nil.
    subscript(key: String) -> JSONValue? { get }
}

extension JSONValue: JSONMemberLookup {}

/// A JSON object read in place: checked whole, exactly as `JSONParser.parse` checks it
/// (UTF-8, syntax, depth and value limits, the same errors), but not built into a tree;
/// a member is found by scanning the bytes again and only it is parsed. For small
/// request contents this costs no allocation where a tree costs several.
///
/// It points into the bytes it was made from: use it only during the call it is given
/// to, and do not keep it.
public struct JSONObjectView: JSONMemberLookup {
    /// The whole text, an object with optional whitespace around it.
    let bytes: UnsafeRawBufferPointer
    private let maxDepth: Int
    /// Where the object's `{` is.
    private let start: Int
    /// Where its first members are.
    private let members: MemberIndex

    /// Checks `bytes` as one JSON text within the limits; nil when it is valid JSON but
    /// not an object. Throws what `JSONParser.parse` throws for the same bytes.
    public static func validate(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512, maxValues: Int = .max
    ) throws(JSONError) -> JSONObjectView? {
        let invalid = UTF8Validation.firstInvalidOffset(bytes)
        guard invalid == bytes.count else { throw JSONError(offset: invalid, reason: "invalid UTF-8") }
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth, maxValues: maxValues)
        parser.skipWhitespace()
        let start = parser.index
        var members = MemberIndex(recording: true)
        if !parser.atEnd && parser.current == UInt8(ascii: "{") {
            // What `skipValue` does for an object, noting where its members are.
            parser.valuesLeft -= 1
            guard parser.valuesLeft >= 0 else { throw parser.error("more than \(maxValues) values") }
            try parser.skipObject(depth: 1, members: &members)
        } else {
            try parser.skipValue(depth: 0)
        }
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        guard bytes[start] == UInt8(ascii: "{") else { return nil }
        return JSONObjectView(bytes: bytes, maxDepth: maxDepth, start: start, members: members)
    }

    /// The member named `key` (the last one if repeated, as Python's `json` keeps it).
    public subscript(key: String) -> JSONValue? {
        guard let at = lastValueStart(of: key) else { return nil }
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.index = at
        // Checked whole when the view was made: this cannot fail.
        return try? parser.parseValue(depth: 1)
    }

    /// The raw UTF-8 of the string member `key` (the last one if repeated) when that
    /// string has no escapes — the common case, read without making a `String`; nil
    /// when absent, not a string, or escaped (then use the subscript).
    public func plainString(_ key: String) -> UnsafeRawBufferPointer? {
        guard let at = lastValueStart(of: key) else { return nil }
        return plainString(at: at)
    }

    /// `plainString` for a fixed ASCII key (the router's `action`, a handler's own
    /// keys): compared by bytes with the noted members, no `String` involved. Its loop
    /// repeats `lastValueStart`'s on purpose: folded into one with the key made lazily,
    /// the app path measured ~150 instructions more per request.
    package func plainString(asciiKey key: StaticString) -> UnsafeRawBufferPointer? {
        let wanted = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        guard members.isComplete else { return plainString(key.description) }
        var index = members.count - 1
        while index >= 0 {
            let member = members[index]
            let raw = UnsafeRawBufferPointer(rebasing: bytes[Int(member.keyStart)..<Int(member.keyEnd)])
            if member.escaped || !RawBytes.isASCII(raw) {
                // An escape or non-ASCII text may still spell the key: the general path.
                if keyMatches(raw, escaped: member.escaped, at: Int(member.keyStart), wanted, key.description) {
                    return plainString(at: Int(member.valueStart))
                }
            } else if RawBytes.equals(raw, wanted) {
                return plainString(at: Int(member.valueStart))
            }
            index -= 1
        }
        return nil
    }

    /// The raw contents of the string value starting at `at`, if it has no escapes.
    private func plainString(at: Int) -> UnsafeRawBufferPointer? {
        guard bytes[at] == UInt8(ascii: "\"") else { return nil }
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.index = at
        guard let (range, escaped) = try? parser.scanString(), !escaped else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    /// The whole object, parsed.
    public var value: JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.index = start
        return (try? parser.parseValue(depth: 0)) ?? .object([])
    }

    /// Where the value of the last member named `key` starts. Keys compare as Swift
    /// strings do (canonical equivalence), like `JSONValue`'s subscript; plain ASCII
    /// keys, nearly all of them, compare by bytes.
    private func lastValueStart(of key: String) -> Int? {
        if members.isComplete {
            var utf8 = key
            return utf8.withUTF8 { wanted in
                var index = members.count - 1
                while index >= 0 {
                    let member = members[index]
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[Int(member.keyStart)..<Int(member.keyEnd)])
                    if keyMatches(raw, escaped: member.escaped, at: Int(member.keyStart), UnsafeRawBufferPointer(wanted), key) {
                        return Int(member.valueStart)
                    }
                    index -= 1
                }
                return nil
            }
        }
        return scanForLastValueStart(of: key)
    }

    /// Whether a key as written (`raw`, escaped or not) names `key` (its UTF-8 `wanted`).
    private func keyMatches(
        _ raw: UnsafeRawBufferPointer, escaped: Bool, at offset: Int, _ wanted: UnsafeRawBufferPointer, _ key: String
    ) -> Bool {
        if !escaped && RawBytes.equals(raw, wanted) { return true }
        // Equal bytes failed: only an escape or non-ASCII text can still be equal.
        if !escaped && RawBytes.isASCII(raw) && RawBytes.isASCII(wanted) { return false }
        let parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        let name = escaped ? try? parser.unescape(raw, at: offset) : String(decoding: raw, as: UTF8.self)
        return name == key
    }

    /// `lastValueStart` for objects with more members than the index holds.
    private func scanForLastValueStart(of key: String) -> Int? {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.index = start + 1
        var found: Int?
        var utf8 = key
        return utf8.withUTF8 { wanted in
            parser.skipWhitespace()
            if parser.current == UInt8(ascii: "}") { return nil }
            while true {
                parser.skipWhitespace()
                guard let (range, escaped) = try? parser.scanString() else { return found }
                let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
                let matches = keyMatches(raw, escaped: escaped, at: range.lowerBound, UnsafeRawBufferPointer(wanted), key)
                parser.skipWhitespace()
                parser.index += 1  // the ':'
                parser.skipWhitespace()
                if matches { found = parser.index }
                guard (try? parser.skipValue(depth: 1)) != nil else { return found }
                parser.skipWhitespace()
                guard !parser.atEnd, parser.current == UInt8(ascii: ",") else { return found }
                parser.index += 1
            }
        }
    }
}
