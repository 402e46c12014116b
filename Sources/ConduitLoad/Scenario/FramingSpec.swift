import Conduit
import ConduitApp
import ConduitMessage

/// Framings written as text, as `--framing` and scenario files take them.
public enum FramingSpec {
    /// What `parse` accepts, for help texts and errors.
    public static let syntax = """
        app (the application protocol), resp (Redis), line (\\n), crlf (\\r\\n), \
        delimited:BYTES (e.g. delimited:\\0), fixed:N, close (the answer ends at the server's close), \
        length:SIZE[,offset=N][,le][,counts-field][,adjust=N] (a SIZE-byte length field: 1, 2, 4 or 8; \
        memcached binary is length:4,offset=8,adjust=12); any of them may end with ,max=BYTES
        """

    /// The framing `text` describes.
    public static func parse(_ text: String) throws(ScenarioError) -> any MessageFraming {
        var parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var maxLength: Int?
        if let last = parts.last, last.hasPrefix("max=") {
            guard let value = Int(last.dropFirst(4)), value > 0 else { throw ScenarioError("max= needs a positive number of bytes, not '\(last)'") }
            maxLength = value
            parts.removeLast()
        }
        let head = parts[0]
        let (name, argument) = head.firstIndex(of: ":").map { (String(head[..<$0]), String(head[head.index(after: $0)...])) }
            ?? (head, nil)
        let options = Array(parts.dropFirst())
        if name != "length" && !options.isEmpty {
            throw ScenarioError("framing '\(name)' takes no options like '\(options[0])'; framings: \(syntax)")
        }
        switch (name, argument) {
        case ("app", nil): return maxLength.map { AppFraming(limits: MessageLimits(maxContentLength: $0)) } ?? AppFraming()
        case ("resp", nil): return RESPFraming(maxLength: maxLength ?? 16 * 1024 * 1024)
        case ("line", nil): return DelimitedFraming(delimiter: [0x0a], maxLength: maxLength ?? 64 * 1024)
        case ("crlf", nil): return DelimitedFraming(delimiter: [0x0d, 0x0a], maxLength: maxLength ?? 64 * 1024)
        case ("close", nil): return UntilCloseFraming(maxLength: maxLength ?? 16 * 1024 * 1024)
        case ("delimited", let bytes?):
            let delimiter = try RequestTemplate.unescaped(bytes)
            guard !delimiter.isEmpty else { throw ScenarioError("delimited: needs the delimiter's bytes, e.g. delimited:\\r\\n") }
            return DelimitedFraming(delimiter: delimiter, maxLength: max(maxLength ?? 64 * 1024, delimiter.count))
        case ("fixed", let count?):
            guard let length = Int(count), length > 0 else { throw ScenarioError("fixed: needs a length of 1 or more, not '\(count)'") }
            return FixedLengthFraming(length: length)
        case ("length", let size?):
            return try lengthPrefixed(size: size, options, maxLength: maxLength)
        default:
            throw ScenarioError("unknown framing '\(text)'; framings: \(syntax)")
        }
    }

    private static func lengthPrefixed(size: String, _ options: [String], maxLength: Int?) throws(ScenarioError) -> LengthPrefixedFraming {
        guard let fieldSize = Int(size), [1, 2, 4, 8].contains(fieldSize) else {
            throw ScenarioError("length:SIZE takes a field of 1, 2, 4 or 8 bytes, not '\(size)'")
        }
        var offset = 0
        var order = LengthPrefixedFraming.ByteOrder.big
        var countsField = false
        var adjustment = 0
        for option in options {
            switch option {
            case "le": order = .little
            case "be": order = .big
            case "counts-field": countsField = true
            case _ where option.hasPrefix("offset="):
                guard let value = Int(option.dropFirst(7)), value >= 0 else { throw ScenarioError("offset= needs a byte count, not '\(option)'") }
                offset = value
            case _ where option.hasPrefix("adjust="):
                guard let value = Int(option.dropFirst(7)) else { throw ScenarioError("adjust= needs a number of bytes, not '\(option)'") }
                adjustment = value
            default:
                throw ScenarioError("unknown length option '\(option)': offset=N, le, be, counts-field, adjust=N, max=BYTES")
            }
        }
        return LengthPrefixedFraming(
            fieldOffset: offset, fieldSize: fieldSize, byteOrder: order, countsField: countsField, adjustment: adjustment,
            maxLength: maxLength ?? 16 * 1024 * 1024)
    }
}
