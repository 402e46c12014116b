/// One message per connection: everything the peer sends until it closes (an HTTP/1.0
/// answer, the tutorial's one-shot server). Nothing is complete before the close; more
/// than `maxLength` bytes is invalid.
public struct UntilCloseFraming: MessageFraming {
    /// The longest message accepted.
    public var maxLength: Int

    /// Messages of at most `maxLength` bytes (16 MiB by default).
    public init(maxLength: Int = 16 * 1024 * 1024) { self.maxLength = maxLength }

    /// Never complete while the stream is open.
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        bytes.count > maxLength ? .invalid("more than \(maxLength) bytes before the close") : .needMore
    }

    /// Everything received, at the close.
    public func frameAtEnd(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        if bytes.count > maxLength { return .invalid("more than \(maxLength) bytes before the close") }
        return bytes.isEmpty ? .needMore : .complete(bytes.count)
    }
}
