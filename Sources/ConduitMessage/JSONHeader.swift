/// The JSON header of a message: the four required keys, typed, plus any other keys
/// in input order (kept, never interpreted).
public struct JSONHeader: Sendable, Equatable {
    /// `byteorder`: the sender's byte order, `little` or `big` (informative only).
    public var byteOrder: String
    /// `content-type`, e.g. `text/json`.
    public var contentType: ContentType
    /// `content-encoding`, e.g. `utf-8` or `binary`.
    public var contentEncoding: String
    /// `content-length`: bytes of content after the header.
    public var contentLength: Int
    /// Keys other than the four required ones.
    public var extra: [(key: String, value: JSONValue)]

    /// The byte order of this machine, as the tutorial writes it (`sys.byteorder`).
    public static let hostByteOrder = UInt16(1).littleEndian == 1 ? "little" : "big"

    /// A header for `contentLength` bytes of `contentType` in `contentEncoding`.
    public init(
        contentType: ContentType, contentEncoding: String, contentLength: Int,
        byteOrder: String = JSONHeader.hostByteOrder, extra: [(key: String, value: JSONValue)] = []
    ) {
        self.byteOrder = byteOrder
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.contentLength = contentLength
        self.extra = extra
    }

    /// Equal when every field and every extra key are equal.
    public static func == (lhs: JSONHeader, rhs: JSONHeader) -> Bool {
        lhs.byteOrder == rhs.byteOrder && lhs.contentType == rhs.contentType
            && lhs.contentEncoding == rhs.contentEncoding && lhs.contentLength == rhs.contentLength
            && JSONValue.object(lhs.extra) == JSONValue.object(rhs.extra)
    }
}

/// A message's `content-type`; `text/json` is the one the application interprets.
public enum ContentType: Sendable, Hashable, CustomStringConvertible {
    /// `text/json`.
    case json
    /// Anything else, treated as binary.
    case other(String)

    /// Recognizes `text/json`.
    public init(_ text: String) { self = text == "text/json" ? .json : .other(text) }

    /// The wire text.
    public var description: String {
        switch self {
        case .json: return "text/json"
        case .other(let text): return text
        }
    }
}
