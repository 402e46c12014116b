extension JSONParser {
    /// Checks one value as `parseValue` does — the same limits, the same errors at the
    /// same offsets — without building it: for reading a text in place.
    mutating func skipValue(depth: Int) throws(JSONError) {
        guard !atEnd else { throw error("unexpected end of input") }
        valuesLeft -= 1
        guard valuesLeft >= 0 else { throw error("more than \(maxValues) values") }
        switch current {
        case UInt8(ascii: "{"):
            var ignored = MemberIndex(recording: false)
            try skipObject(depth: depth + 1, members: &ignored)
        case UInt8(ascii: "["): try skipArray(depth: depth + 1)
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        default: throw error("unexpected character")
        }
    }

    /// A string, its escapes decoded and checked (a lone surrogate is an error here as
    /// in `parseString`), without keeping it.
    mutating func skipString() throws(JSONError) {
        let (range, escaped) = try scanString()
        if escaped { _ = try unescape(UnsafeRawBufferPointer(rebasing: bytes[range]), at: range.lowerBound) }
    }

    /// An object; its members' positions go to `members` (top level only).
    mutating func skipObject(depth: Int, members: inout MemberIndex) throws(JSONError) {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        index += 1
        skipWhitespace()
        if !atEnd && current == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyStart = index + 1
            let (range, escaped) = try scanString()
            if escaped { _ = try unescape(UnsafeRawBufferPointer(rebasing: bytes[range]), at: range.lowerBound) }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a key")
            skipWhitespace()
            members.add(key: keyStart..<range.upperBound, escaped: escaped, value: index)
            try skipValue(depth: depth)
            skipWhitespace()
            guard !atEnd else { throw error("unterminated object") }
            if current == UInt8(ascii: ",") {
                index += 1
            } else if current == UInt8(ascii: "}") {
                index += 1
                return
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func skipArray(depth: Int) throws(JSONError) {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        index += 1
        skipWhitespace()
        if !atEnd && current == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try skipValue(depth: depth)
            skipWhitespace()
            guard !atEnd else { throw error("unterminated array") }
            if current == UInt8(ascii: ",") {
                index += 1
            } else if current == UInt8(ascii: "]") {
                index += 1
                return
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }
}

/// Where the first few members of an object are, noted while it is checked, so that a
/// lookup compares keys instead of scanning the text again. Objects with more members
/// are scanned again on lookup (`isComplete` false).
struct MemberIndex {
    struct Member {
        var keyStart: Int32 = 0
        var keyEnd: Int32 = 0
        var valueStart: Int32 = 0
        var escaped = false
    }

    static let capacity = 4
    private var members = (Member(), Member(), Member(), Member())
    private(set) var count = 0
    private(set) var isComplete: Bool
    private let recording: Bool

    init(recording: Bool) {
        self.recording = recording
        self.isComplete = recording
    }

    @inline(__always)
    mutating func add(key: Range<Int>, escaped: Bool, value: Int) {
        guard recording else { return }
        guard count < Self.capacity, value <= Int(Int32.max) else {
            isComplete = false
            return
        }
        let member = Member(keyStart: Int32(key.lowerBound), keyEnd: Int32(key.upperBound), valueStart: Int32(value), escaped: escaped)
        switch count {
        case 0: members.0 = member
        case 1: members.1 = member
        case 2: members.2 = member
        default: members.3 = member
        }
        count += 1
    }

    subscript(index: Int) -> Member {
        switch index {
        case 0: members.0
        case 1: members.1
        case 2: members.2
        default: members.3
        }
    }
}
