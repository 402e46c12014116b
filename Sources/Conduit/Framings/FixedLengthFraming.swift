/// Messages of one fixed length: the simplest of the three ways a stream is cut into
/// messages (fixed length, delimited, length-prefixed).
public struct FixedLengthFraming: MessageFraming {
    /// Every message's length, at least 1.
    public let length: Int

    /// Messages of `length` bytes (at least 1).
    public init(length: Int) {
        precondition(length > 0, "a fixed-length message has at least one byte")
        self.length = length
    }

    /// Complete once `length` bytes are there.
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        bytes.count >= length ? .complete(length) : .needMore
    }
}
