import Conduit
import FuzzSupport

/// libFuzzer entry point for the framings (`FixedLengthFraming`, `DelimitedFraming`,
/// `LengthPrefixedFraming`, `RESPFraming`, `UntilCloseFraming`): what a peer sends is the
/// input. Layout: byte 0 chooses the framing (and, for length-prefixed, the field's size
/// and byte order), byte 1 its parameter (the fixed length, the delimiter, the field's
/// offset), byte 2 a chunk size; the rest is the stream, with a limit of 512 bytes.
/// Invariants:
/// - a complete message is 1 byte or more and no longer than what is there;
/// - every proper prefix of a complete message is `.needMore` (a framing decides on
///   what it has seen, never on what has not come yet);
/// - the messages, and where the stream turns invalid, are the same whether the stream
///   arrives whole or in chunks.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 3 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let framing = makeFraming(input[0], input[1])
    let chunk = 1 + Int(input[2]) % 64
    let stream = Array(input[3...])
    let whole = cut(framing, [stream])
    let chunks = cut(framing, stride(from: 0, to: stream.count, by: chunk).map { Array(stream[$0..<min($0 + chunk, stream.count)]) })
    precondition(whole == chunks, "chunks of \(chunk) changed \(whole) to \(chunks)")
    return 0
}

/// The framing the first two bytes choose.
func makeFraming(_ kind: UInt8, _ parameter: UInt8) -> any MessageFraming {
    let limit = 512
    switch kind % 5 {
    case 0: return FixedLengthFraming(length: 1 + Int(parameter) % 32)
    case 1:
        let delimiters: [[UInt8]] = [[0x0a], [0x0d, 0x0a], [0], [0x0d, 0x0a, 0x0d, 0x0a]]
        return DelimitedFraming(delimiter: delimiters[Int(parameter) % delimiters.count], maxLength: limit)
    case 2:
        let sizes = [1, 2, 4, 8]
        return LengthPrefixedFraming(
            fieldOffset: Int(parameter) % 8, fieldSize: sizes[Int(kind >> 3) % 4],
            byteOrder: kind & 0x20 == 0 ? .big : .little, countsField: kind & 0x40 != 0,
            adjustment: Int(parameter >> 3) - 8, maxLength: limit)
    case 3: return RESPFraming(maxLength: limit)
    default: return UntilCloseFraming(maxLength: limit)
    }
}

/// What cutting a stream gave: its messages, and whether (and after what) it turned
/// invalid or ended with bytes pending.
struct Cut: Equatable {
    var messages: [[UInt8]] = []
    var invalid = false
    var pending = 0
}

/// Cuts the pieces as a connection would: unconsumed bytes are offered again with the
/// next piece; checks each verdict's own invariants on the way.
func cut(_ framing: any MessageFraming, _ pieces: [[UInt8]]) -> Cut {
    var result = Cut()
    var buffer: [UInt8] = []
    for piece in pieces {
        buffer += piece
        while !buffer.isEmpty {
            let verdict = buffer.withUnsafeBytes { framing.frame($0) }
            guard case .complete(let length) = verdict else {
                if case .invalid = verdict { result.invalid = true; return result }
                break
            }
            precondition(length >= 1 && length <= buffer.count, "complete(\(length)) of \(buffer.count) bytes")
            for prefix in 0..<length {
                let early = buffer.withUnsafeBytes { framing.frame(UnsafeRawBufferPointer(rebasing: $0[..<prefix])) }
                precondition(early == .needMore, "a \(prefix)-byte prefix of a \(length)-byte message gave \(early)")
            }
            result.messages.append(Array(buffer.prefix(length)))
            buffer.removeFirst(length)
        }
    }
    result.pending = buffer.count
    return result
}

/// SwiftPM links an executable's entry point under this name; hand over to libFuzzer.
@_cdecl("FramingFuzzer_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzOneInput(data, size)
    }
}
