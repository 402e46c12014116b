/// How a byte stream splits into messages, for the async API (`AsyncConnection`'s
/// `receiveMessage`, `messages` and `request`). A framing looks at the bytes received
/// and not yet taken, starting at a message boundary, and says how long the first
/// message is.
public protocol MessageFraming: Sendable {
    /// The first message's length if it has all arrived, `.needMore` if not,
    /// `.invalid` if these bytes can never start a message (the connection then closes
    /// with `SocketError.Kind.badFraming`).
    func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength

    /// Where a whole message's payload is: the message without what the framing adds
    /// around it (a length prefix, headers, a delimiter). By default the whole message.
    func payloadRange(of message: UnsafeRawBufferPointer) -> Range<Int>
}

extension MessageFraming {
    /// The whole message.
    public func payloadRange(of message: UnsafeRawBufferPointer) -> Range<Int> { 0..<message.count }

    /// The payload of `message` (see `payloadRange(of:)`), copied.
    public func payload(in message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { bytes in
            let range = payloadRange(of: bytes).clamped(to: 0..<bytes.count)
            return Array(bytes[range])
        }
    }
}

/// What a `MessageFraming` found at the front of the input.
public enum FrameLength: Sendable, Equatable {
    /// A whole message of this many bytes (at least 1) is at the front.
    case complete(Int)
    /// The message at the front has not all arrived.
    case needMore
    /// The input is not a message; the reason is for people.
    case invalid(String)
}

/// Messages that each end with a newline (`\n`, included in the message), such as a
/// line-based text protocol. Lines longer than `maxLength` are invalid.
public struct LineFraming: MessageFraming {
    /// The longest line accepted, newline included.
    public var maxLength: Int

    /// Lines of at most `maxLength` bytes (64 KiB by default).
    public init(maxLength: Int = 64 * 1024) { self.maxLength = maxLength }

    /// Finds the first newline.
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        let searched = min(bytes.count, maxLength)
        if let newline = bytes.prefix(searched).firstIndex(of: 0x0a) { return .complete(newline + 1) }
        return bytes.count >= maxLength ? .invalid("line longer than \(maxLength) bytes") : .needMore
    }

    /// The line without its newline.
    public func payloadRange(of message: UnsafeRawBufferPointer) -> Range<Int> {
        message.last == 0x0a ? 0..<message.count - 1 : 0..<message.count
    }
}
