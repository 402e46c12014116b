import ConduitApp
import ConduitMessage
import NIOCore

// Conduit's own codec under SwiftNIO's transport: the same MessageDecoder and
// Router.tutorial() that `conduit app-server` runs, so that against it only the event
// loop and the socket code differ.

/// Decodes every complete message in the received bytes with Conduit's `MessageDecoder`
/// (zero copy: a `Message` is a view of NIO's buffer), routes each with `Router`, and
/// passes on all the answers of one read as one buffer, in order. A protocol error is
/// answered with `Error: <reason>` after the answers before it, then the connection closes,
/// as Conduit's server does.
struct ConduitCodecDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    private var decoder = MessageDecoder()
    private let router = Router.tutorial()
    /// Reused between reads, so answering allocates no array once it has grown.
    private var answers: [UInt8] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        // Locals, moved back after: the closures below may not capture `self` while
        // `decoder.decode` is modifying it.
        var decoder = self.decoder
        var answers = self.answers
        self.answers = []
        answers.removeAll(keepingCapacity: true)
        let router = self.router
        var failure: MessageError?
        let consumed = buffer.withUnsafeReadableBytes { bytes -> Int in
            do throws(MessageError) {
                return try decoder.decode(bytes) { message in
                    do throws(MessageError) {
                        try router.route(message).encode(into: &answers)
                        return true
                    } catch {
                        failure = error
                        return false
                    }
                }
            } catch {
                failure = error
                return 0
            }
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        if let failure {
            // Fits: a reason is far below the 65,535-byte header limit.
            try? Response.error(failure.description).encode(into: &answers)
        }
        if !answers.isEmpty {
            context.fireChannelRead(Self.wrapInboundOut(context.channel.allocator.buffer(bytes: answers)))
        }
        self.decoder = decoder
        self.answers = answers
        if let failure { throw failure }
        return .needMoreData
    }
}

/// Writes the answers it is given and flushes once per read burst; on an error (a
/// protocol error from the decoder) flushes what is written, then closes.
final class AnswerWriter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.flush()
        context.close(promise: nil)
    }
}
