@_spi(Reference) import ConduitMessage
import FuzzSupport

/// libFuzzer entry point: decodes the input as a message stream and checks the
/// decoder's invariants, so that a logic error (not only a crash) stops the fuzzer:
/// - it never consumes more than it was given, and only whole messages;
/// - every message's content has exactly `content-length` bytes;
/// - feeding the same bytes in two pieces (split where the input says) gives the same
///   messages and the same error as feeding them at once;
/// - a decoded message, encoded again, decodes to the same header and content.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = MessageLimits(maxHeaderBytes: 4096, maxContentLength: 1 << 16)
    // The one-pass header decoder must agree with the tree-building reference on any
    // bytes: the same header, or the same error.
    let fast = Result { () throws(MessageError) in try JSONHeader.decode(UnsafeRawBufferPointer(start: data, count: size), limits: limits) }
    let reference = Result { () throws(MessageError) in
        try JSONHeader.referenceDecode(UnsafeRawBufferPointer(start: data, count: size), limits: limits)
    }
    precondition(fast == reference, "one-pass decoder disagrees: \(fast) vs \(reference)")
    let whole = decodeAll(input, limits: limits)
    let split = size > 0 ? Int(input[0]) % (size + 1) : 0
    let pieces = decodeInTwo(input, at: split, limits: limits)
    precondition(whole.messages == pieces.messages, "split at \(split) changed the messages")
    precondition(whole.error == pieces.error, "split at \(split) changed the error")
    for message in whole.messages {
        var encoded: [UInt8] = []
        do {
            try MessageEncoder.appendHeaders(message.header, to: &encoded)
        } catch {
            // Inputs are at most 4 KiB, so a header cannot grow past 65,535 bytes.
            preconditionFailure("re-encoding a decoded header failed: \(error)")
        }
        encoded += message.content
        let again = decodeAll(encoded, limits: MessageLimits(maxHeaderBytes: 65_535, maxContentLength: 1 << 16))
        precondition(again.error == nil && again.messages == [message], "re-encoding changed a message")
    }
    return 0
}

struct Decoded: Equatable {
    var header: JSONHeader
    var content: [UInt8]
    /// Bytes the message took on the wire (not compared: re-encoding may respace it).
    var wireSize: Int

    static func == (a: Decoded, b: Decoded) -> Bool { a.header == b.header && a.content == b.content }
}

func decodeAll(_ bytes: [UInt8], limits: MessageLimits) -> (messages: [Decoded], error: MessageError?) {
    var decoder = MessageDecoder(limits: limits)
    var messages: [Decoded] = []
    do {
        let consumed = try bytes.withUnsafeBytes { buffer in
            try decoder.decode(buffer) { message in
                precondition(message.content.count == message.header.contentLength)
                messages.append(Decoded(header: message.header, content: Array(message.content), wireSize: message.wireSize))
                return true
            }
        }
        precondition(consumed <= bytes.count)
        precondition(consumed == messages.reduce(0) { $0 + $1.wireSize })
        return (messages, nil)
    } catch {
        return (messages, error as? MessageError)
    }
}

func decodeInTwo(_ bytes: [UInt8], at split: Int, limits: MessageLimits) -> (messages: [Decoded], error: MessageError?) {
    var decoder = MessageDecoder(limits: limits)
    var messages: [Decoded] = []
    var pending = Array(bytes[..<split])
    do {
        for next in [Array(bytes[split...]), []] {
            let consumed = try pending.withUnsafeBytes { buffer in
                try decoder.decode(buffer) { message in
                    messages.append(Decoded(header: message.header, content: Array(message.content), wireSize: message.wireSize))
                    return true
                }
            }
            pending.removeFirst(consumed)
            pending += next
        }
        return (messages, nil)
    } catch {
        return (messages, error as? MessageError)
    }
}

/// SwiftPM links an executable's entry point under this name; hand over to libFuzzer.
@_cdecl("DecoderFuzzer_main")
public func fuzzerMain(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzOneInput(data, size)
    }
}
