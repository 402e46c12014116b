/// How a byte stream splits into messages, for the async API (`AsyncConnection`'s
/// `receiveMessage`, `messages` and `request`). A framing looks at the bytes received
/// and not yet taken, starting at a message boundary, and says how long the first
/// message is.
public protocol MessageFraming: Sendable {
    /// The first message's length if it has all arrived, `.needMore` if not,
    /// `.invalid` if these bytes can never start a message (the connection then closes
    /// with `SocketError.Kind.badFraming`).
    func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength

    /// The first message once the peer has closed and nothing more will come: what
    /// `frame` says, except for a framing that ends a message at the close
    /// (`UntilCloseFraming`). `.needMore` here means the stream ended mid-message.
    func frameAtEnd(_ bytes: UnsafeRawBufferPointer) -> FrameLength

    /// Where a whole message's payload is: the message without what the framing adds
    /// around it (a length prefix, headers, a delimiter). By default the whole message.
    func payloadRange(of message: UnsafeRawBufferPointer) -> Range<Int>
}

extension MessageFraming {
    /// What `frame` says: a message ends where the framing ends it, not at the close.
    public func frameAtEnd(_ bytes: UnsafeRawBufferPointer) -> FrameLength { frame(bytes) }

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
