import Foundation
import NIOCore
import NIOFoundationCompat

// The application protocol the way most SwiftNIO users would write it: Codable types and
// Foundation's JSONDecoder/JSONEncoder, a ByteToMessageDecoder that cuts the stream into
// messages, and a handler that answers each.

/// The JSON header; other keys are ignored by JSONDecoder, as PROTOCOL.md asks.
struct Header: Codable {
    var byteorder: String
    var contentType: String
    var contentEncoding: String
    var contentLength: Int

    enum CodingKeys: String, CodingKey {
        case byteorder
        case contentType = "content-type"
        case contentEncoding = "content-encoding"
        case contentLength = "content-length"
    }
}

/// One message: its header and its content (a slice of the received bytes, no copy).
struct AppMessage {
    var header: Header
    var content: ByteBuffer
}

/// What the frame decoder refuses; the connection is then closed (errorCaught).
struct ProtocolError: Error { var reason: String }

/// 2-byte big-endian header length, JSON header, content. A header already decoded for a
/// message whose content is still arriving is kept, so it is decoded once.
struct FoundationFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = AppMessage
    /// Conduit's default limits (MessageLimits), so that both accept the same messages.
    static let maxHeader = 16 * 1024
    static let maxContent = 16 << 20

    private let json = JSONDecoder()
    private var awaiting: (headerEnd: Int, header: Header)?

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if awaiting == nil {
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return .needMoreData }
            guard length > 0, Int(length) <= Self.maxHeader else { throw ProtocolError(reason: "header length \(length)") }
            guard buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
            let header = try buffer.getJSONDecodable(
                Header.self, decoder: json, at: buffer.readerIndex + 2, length: Int(length))!
            guard (0...Self.maxContent).contains(header.contentLength) else {
                throw ProtocolError(reason: "content-length \(header.contentLength)")
            }
            awaiting = (2 + Int(length), header)
        }
        let (headerEnd, header) = awaiting!
        guard buffer.readableBytes >= headerEnd + header.contentLength else { return .needMoreData }
        awaiting = nil
        buffer.moveReaderIndex(forwardBy: headerEnd)
        let content = buffer.readSlice(length: header.contentLength)!
        context.fireChannelRead(Self.wrapInboundOut(AppMessage(header: header, content: content)))
        return .continue
    }
}

/// `{"action": ..., "value": ...}`; a missing key reads as nil (the tutorial's `None`).
struct Request: Decodable {
    var action: String?
    var value: String?
}

/// `{"result": ...}`.
struct SearchResult: Encodable {
    var result: String
}

/// Answers each message as the tutorial's server does and writes the answer; flushes once
/// per read burst.
final class FoundationAppHandler: ChannelInboundHandler {
    typealias InboundIn = AppMessage
    typealias OutboundOut = ByteBuffer

    static let table = [
        "morpheus": "Follow the white rabbit. 🐰",
        "ring": "In the caves beneath the Misty Mountains. 💍",
        "🐶": "🐾 Playing ball! 🏐",
    ]
    static let byteorder = 1.littleEndian == 1 ? "little" : "big"

    private let decoder = JSONDecoder()
    private let encoder = JSONEncoder()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        do {
            let answer = try respond(to: message, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(answer), promise: nil)
        } catch {
            context.fireErrorCaught(error)
        }
    }

    /// The whole answer message: proto header, JSON header, content.
    private func respond(to message: AppMessage, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let type: String
        let encoding: String
        var content: ByteBuffer
        if message.header.contentType == "text/json" {
            guard ["utf-8", "utf8"].contains(message.header.contentEncoding.lowercased()) else {
                throw ProtocolError(reason: "content-encoding \(message.header.contentEncoding)")
            }
            let request = try decoder.decode(Request.self, from: message.content)
            let text: String
            if request.action == "search" {
                text = request.value.flatMap { Self.table[$0] } ?? "No match for '\(request.value ?? "None")'."
            } else {
                text = "Error: invalid action '\(request.action ?? "None")'."
            }
            (type, encoding) = ("text/json", "utf-8")
            content = try encoder.encodeAsByteBuffer(SearchResult(result: text), allocator: allocator)
        } else {
            (type, encoding) = ("binary/custom-server-binary-type", "binary")
            content = allocator.buffer(string: "First 10 bytes of request: ")
            content.writeImmutableBuffer(message.content.getSlice(at: message.content.readerIndex,
                                                                  length: min(10, message.content.readableBytes))!)
        }
        let header = Header(byteorder: Self.byteorder, contentType: type, contentEncoding: encoding,
                            contentLength: content.readableBytes)
        var out = allocator.buffer(capacity: 160 + content.readableBytes)
        out.writeInteger(UInt16(0))  // the header's length, set once it is written
        let headerLength = try out.writeJSONEncodable(header, encoder: encoder)
        out.setInteger(UInt16(headerLength), at: out.readerIndex)
        out.writeBuffer(&content)
        return out
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
