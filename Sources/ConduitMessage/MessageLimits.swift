/// Size limits for incoming messages; exceeding one is a protocol error.
public struct MessageLimits: Sendable, Equatable {
    /// Largest JSON header accepted, in bytes (the wire format allows 65,535).
    public var maxHeaderBytes: Int
    /// Largest `content-length` accepted, in bytes.
    public var maxContentLength: Int

    /// Limits with the defaults: 16 KiB of header, 16 MiB of content.
    public init(maxHeaderBytes: Int = 16 * 1024, maxContentLength: Int = 16 << 20) {
        self.maxHeaderBytes = min(maxHeaderBytes, 65_535)
        self.maxContentLength = maxContentLength
    }
}
