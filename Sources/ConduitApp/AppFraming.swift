import Conduit
import ConduitMessage

/// The application protocol's framing (2-byte length, JSON header, content), for the
/// async API:
///
/// ```swift
/// let frame = try await connection.request(
///     AppRequest.json(action: "length", value: .string("abc")), framing: AppFraming())
/// let answer = try Response(frame: frame)        // .result(.number("3"))
/// ```
///
/// `AppRequest.json(action:value:)` makes a `text/json` request for any action.
/// `AppRequest(action:value:).encoded()` builds what the tutorial's client sends: JSON
/// for `search` only, and **binary content for every other action** (which a router
/// hands to its binary handler, not to your action).
public struct AppFraming: MessageFraming {
    /// The limits a message must keep; one that breaks them is invalid.
    public var limits: MessageLimits

    /// A framing with `limits` (the defaults: 16 KiB of header, 16 MiB of content).
    public init(limits: MessageLimits = MessageLimits()) { self.limits = limits }

    /// Reads the 2-byte length and the JSON header's content-length; the header is
    /// parsed again each time more of a large message arrives, which the async path
    /// can afford.
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        guard bytes.count >= ProtoHeader.size else { return .needMore }
        let headerLength = ProtoHeader.read(bytes.baseAddress!)
        guard headerLength > 0 else { return .invalid(MessageError.emptyHeader.description) }
        guard headerLength <= limits.maxHeaderBytes else {
            return .invalid(MessageError.headerTooLong(length: headerLength, limit: limits.maxHeaderBytes).description)
        }
        let headerEnd = ProtoHeader.size + headerLength
        guard bytes.count >= headerEnd else { return .needMore }
        let header: JSONHeader
        do {
            header = try JSONHeader.decode(
                UnsafeRawBufferPointer(rebasing: bytes[ProtoHeader.size..<headerEnd]), limits: limits)
        } catch {
            return .invalid(error.description)
        }
        let total = headerEnd + header.contentLength
        return bytes.count >= total ? .complete(total) : .needMore
    }

    /// The content, after the 2-byte length and the JSON header.
    public func payloadRange(of message: UnsafeRawBufferPointer) -> Range<Int> {
        guard message.count >= ProtoHeader.size else { return 0..<0 }
        let headerEnd = ProtoHeader.size + ProtoHeader.read(message.baseAddress!)
        return min(headerEnd, message.count)..<message.count
    }
}
