/// An incremental decoder for the message stream: proto header → JSON header →
/// content, correct for any split of the byte stream.
///
/// Give it everything received and not yet consumed (the connection keeps the
/// unconsumed tail and offers it again, with new bytes, next time); it hands each
/// complete message to the callback as a view of those bytes and returns how many
/// bytes it consumed. For a message whose content is still arriving it remembers only
/// where its header ends and how long its content is (two integers: 100,000 idle
/// connections each hold a decoder), so a large content arriving in many reads is not
/// re-parsed each time; the header is decoded again, once, when the content is
/// complete.
public struct MessageDecoder {
    /// The limits checked on every message.
    public var limits: MessageLimits
    private var pending: (headerEnd: Int, contentLength: Int)?

    /// A decoder with `limits`.
    public init(limits: MessageLimits = MessageLimits()) {
        self.limits = limits
    }

    /// Decodes complete messages from the front of `bytes`. `onMessage` returns false
    /// to stop early (for example after deciding to close). Returns the bytes consumed
    /// (whole messages only); throws on the first malformed message.
    public mutating func decode(
        _ bytes: UnsafeRawBufferPointer, _ onMessage: (Message) -> Bool
    ) throws(MessageError) -> Int {
        var offset = 0
        while true {
            let available = bytes.count - offset
            // One non-optional `let`, moved into the message: an optional header copied
            // into it cost a copy and a destroy of the header (its strings' retains and
            // releases) on every message.
            let header: JSONHeader
            let headerEnd: Int
            if let known = pending {
                // Checked for overflow when it was noted.
                guard available >= known.headerEnd + known.contentLength else { return offset }
                pending = nil
                headerEnd = known.headerEnd
                // The same bytes as when the content began: the same header, no new error.
                header = try JSONHeader.decode(
                    UnsafeRawBufferPointer(rebasing: bytes[offset + ProtoHeader.size..<offset + headerEnd]), limits: limits)
            } else {
                guard available >= ProtoHeader.size else { return offset }
                let headerLength = ProtoHeader.read(bytes.baseAddress! + offset)
                if headerLength == 0 { throw .emptyHeader }
                if headerLength > limits.maxHeaderBytes {
                    throw .headerTooLong(length: headerLength, limit: limits.maxHeaderBytes)
                }
                guard available >= ProtoHeader.size + headerLength else { return offset }
                let start = offset + ProtoHeader.size
                header = try JSONHeader.decode(
                    UnsafeRawBufferPointer(rebasing: bytes[start..<start + headerLength]), limits: limits)
                headerEnd = ProtoHeader.size + headerLength
                // Checked: a content-length near Int.max must be an error, not a trap.
                let (total, overflow) = headerEnd.addingReportingOverflow(header.contentLength)
                if overflow { throw .contentTooLong(length: header.contentLength, limit: limits.maxContentLength) }
                guard available >= total else {
                    pending = (headerEnd, header.contentLength)
                    return offset
                }
            }
            let total = headerEnd + header.contentLength
            let content = UnsafeRawBufferPointer(rebasing: bytes[offset + headerEnd..<offset + total])
            offset += total
            if !onMessage(Message(header: header, content: content, wireSize: total)) { return offset }
        }
    }

    /// True when the header of the message at the front has been parsed and only its
    /// content is still arriving (so a partial input is content, not header).
    public var isAwaitingContent: Bool { pending != nil }

    /// The whole size (proto header, JSON header, content) of the message at the front
    /// while its content is still arriving; nil while no header is waiting for content.
    public var awaitedMessageSize: Int? { pending.map { $0.headerEnd + $0.contentLength } }

    /// Call when the stream ends with `remaining` unconsumed bytes: throws
    /// `.truncated` if a message was cut off, does nothing if the stream ended cleanly.
    public func finish(remaining: Int) throws(MessageError) {
        guard remaining > 0 else { return }
        throw .truncated(received: remaining, expected: pending.map { $0.headerEnd + $0.contentLength })
    }
}
