import Glibc

/// Replies of RESP, the Redis protocol, versions 2 and 3: simple strings, errors,
/// integers, bulk strings, arrays (nested, and null), and RESP3's null, double, boolean,
/// big number, blob error, verbatim string, map, set, attribute and push. A reply is one
/// value with everything nested in it.
///
/// Nesting is followed by counting the values still owed, not by recursion, so a
/// hostile depth costs nothing but bytes; `maxLength` bounds those. Streamed RESP3
/// strings and aggregates (`$?`, `*?`) are not framed: they are invalid here.
public struct RESPFraming: MessageFraming {
    /// The longest reply accepted, everything nested included.
    public var maxLength: Int

    /// Replies of at most `maxLength` bytes (512 MiB is Redis's own bulk limit; 16 MiB
    /// by default).
    public init(maxLength: Int = 16 * 1024 * 1024) { self.maxLength = maxLength }

    /// Walks one whole reply.
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        var position = 0
        // Values still to read: the reply, then whatever aggregates announce.
        var owed = 1
        while owed > 0 {
            guard position < bytes.count else { return needMore(bytes) }
            let type = bytes[position]
            guard let lineEnd = Self.lineEnd(in: bytes, from: position + 1) else {
                return bytes.count - position > min(maxLength, Self.longestLine)
                    ? .invalid("a RESP line longer than \(min(maxLength, Self.longestLine)) bytes") : needMore(bytes)
            }
            let line = UnsafeRawBufferPointer(rebasing: bytes[(position + 1)..<lineEnd])
            position = lineEnd + 2
            owed -= 1
            switch type {
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "("), UInt8(ascii: "_"),
                UInt8(ascii: ","), UInt8(ascii: "#"):
                if type == UInt8(ascii: "_") && !line.isEmpty { return .invalid("a RESP3 null with content") }
            case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                guard let length = Self.integer(line) else { return .invalid("a bad RESP length") }
                if length == -1 && type == UInt8(ascii: "$") { continue }
                guard length >= 0 else { return .invalid("a bad RESP length \(length)") }
                guard length <= maxLength else { return .invalid("a RESP string of \(length) bytes, over the limit") }
                let end = position + length
                guard end + 2 <= bytes.count else { return end + 2 > maxLength ? tooLong : needMore(bytes) }
                guard bytes[end] == 0x0d, bytes[end + 1] == 0x0a else {
                    return .invalid("a RESP string not ended by CRLF")
                }
                position = end + 2
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
                guard let count = Self.integer(line) else { return .invalid("a bad RESP element count") }
                if count == -1 && type == UInt8(ascii: "*") { continue }
                // Every value takes at least 3 bytes: a larger count cannot fit.
                guard count >= 0, count <= maxLength / 3 else { return .invalid("a bad RESP element count \(count)") }
                switch type {
                case UInt8(ascii: "%"): owed += 2 * count
                // An attribute map comes before the value it describes.
                case UInt8(ascii: "|"): owed += 2 * count + 1
                default: owed += count
                }
            default:
                return .invalid("a bad RESP type byte 0x\(String(type, radix: 16))")
            }
            if position > maxLength { return tooLong }
        }
        return .complete(position)
    }

    /// The reply is a RESP error: a simple error (`-`) or a RESP3 blob error (`!`).
    public static func isError(_ reply: UnsafeRawBufferPointer) -> Bool {
        guard let first = reply.first else { return false }
        return first == UInt8(ascii: "-") || first == UInt8(ascii: "!")
    }

    /// The longest type line (`+OK`, `:1000`, `$5`) accepted before its CRLF.
    static let longestLine = 64 * 1024

    private var tooLong: FrameLength { .invalid("a RESP reply longer than \(maxLength) bytes") }

    private func needMore(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        bytes.count >= maxLength ? tooLong : .needMore
    }

    /// The index of the CR of the first CRLF at or after `start`.
    private static func lineEnd(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var from = start
        while from < bytes.count - 1 {
            guard let found = memchr(base + from, 0x0d, bytes.count - 1 - from) else { return nil }
            let index = UnsafeRawPointer(found) - base
            if bytes[index + 1] == 0x0a { return index }
            from = index + 1
        }
        return nil
    }

    /// A decimal integer (optional minus sign, at most 18 digits), or nil.
    private static func integer(_ line: UnsafeRawBufferPointer) -> Int? {
        var digits = line[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }
}
