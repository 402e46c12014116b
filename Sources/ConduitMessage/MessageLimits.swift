/// Size limits for incoming messages; exceeding one is a protocol error.
public struct MessageLimits: Sendable, Equatable {
    /// Largest JSON header accepted, in bytes (the wire format allows 65,535).
    public var maxHeaderBytes: Int
    /// Largest `content-length` accepted, in bytes.
    public var maxContentLength: Int
    /// Deepest nesting of arrays and objects in a JSON content.
    public var maxContentDepth: Int
    /// Most values (scalars, arrays, objects, at any depth) in a JSON content: parsing
    /// costs per value, so this bounds the time one request takes from its loop
    /// (16 MiB of tiny values took 1.2 s without it).
    public var maxContentValues: Int

    /// The largest content length any limit may allow: a whole frame (proto header,
    /// JSON header, content) must still be countable in an `Int`.
    public static let largestContentLength = Int.max - ProtoHeader.size - ProtoHeader.maxHeaderLength

    /// Limits with the defaults: 16 KiB of header, 16 MiB of content, JSON content
    /// nested at most 64 deep with at most 100,000 values. Values outside what the wire
    /// format can carry are brought inside it (header 1...65,535 bytes, content
    /// 0...`largestContentLength`); depth and values are at least 1.
    public init(
        maxHeaderBytes: Int = 16 * 1024, maxContentLength: Int = 16 << 20, maxContentDepth: Int = 64,
        maxContentValues: Int = 100_000
    ) {
        self.maxHeaderBytes = min(max(maxHeaderBytes, 1), ProtoHeader.maxHeaderLength)
        self.maxContentLength = min(max(maxContentLength, 0), Self.largestContentLength)
        self.maxContentDepth = max(maxContentDepth, 1)
        self.maxContentValues = max(maxContentValues, 1)
    }
}
