/// Size limits for incoming messages; exceeding one is a protocol error.
public struct MessageLimits: Sendable, Equatable {
    /// Largest JSON header accepted, in bytes (the wire format allows 65,535).
    public var maxHeaderBytes: Int
    /// Largest `content-length` accepted, in bytes.
    public var maxContentLength: Int

    /// The largest content length any limit may allow: a whole frame (proto header,
    /// JSON header, content) must still be countable in an `Int`.
    public static let largestContentLength = Int.max - ProtoHeader.size - ProtoHeader.maxHeaderLength

    /// Limits with the defaults: 16 KiB of header, 16 MiB of content. Values outside
    /// what the wire format can carry are brought inside it (header 1...65,535 bytes,
    /// content 0...`largestContentLength`).
    public init(maxHeaderBytes: Int = 16 * 1024, maxContentLength: Int = 16 << 20) {
        self.maxHeaderBytes = min(max(maxHeaderBytes, 1), ProtoHeader.maxHeaderLength)
        self.maxContentLength = min(max(maxContentLength, 0), Self.largestContentLength)
    }
}
