@_spi(Fuzzing) import Conduit
import FuzzSupport

/// libFuzzer entry point for the TLS glue (the C shim's BIO between the loop's buffers
/// and OpenSSL, and the session steps a connection takes): what a peer sends is the
/// input. Byte 0 chooses the side (even: a server, whose peer sends a ClientHello; odd:
/// a client, whose peer answers its hello) and a chunk size; the rest is the stream.
/// Invariants:
/// - nothing crashes or touches memory it should not (AddressSanitizer);
/// - the outcome — the plaintext delivered, whether the handshake completed, and how
///   the session ended (still running, closed, or failed and why) — is the same
///   whether the stream arrives whole or in chunks, so no byte is lost, doubled or
///   read out of order between the loop's input views and the bytes kept between them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let context = input[0] & 1 == 0 ? contexts.server : contexts.client
    let chunk = 1 + Int(input[0] >> 1) % 96
    let stream = Array(input[1...])
    let whole = run(context, [stream])
    let chunks = run(context, stride(from: 0, to: stream.count, by: chunk).map { Array(stream[$0..<min($0 + chunk, stream.count)]) })
    precondition(whole == chunks, "chunks of \(chunk) changed \(whole) to \(chunks)")
    return 0
}

/// What a session made of a stream.
struct Outcome: Equatable {
    var plaintext: [UInt8] = []
    var established = false
    var state = TLSByteStream.State.running
}

func run(_ context: TLSContext, _ pieces: [[UInt8]]) -> Outcome {
    guard let stream = TLSByteStream(context: context) else { preconditionFailure("no TLS session") }
    var outcome = Outcome()
    _ = stream.takeOutput()
    for piece in pieces {
        outcome.plaintext += stream.feed(piece)
        _ = stream.takeOutput()
    }
    outcome.established = stream.isEstablished
    outcome.state = stream.state
    return outcome
}

/// One server context (a certificate made at start, no file) and one client context
/// that checks nothing, made once for the run.
let contexts: (server: TLSContext, client: TLSContext) = {
    do {
        var client = TLSConfiguration.client()
        client.verification = .none
        client.resumesSessions = false
        return (try TLSContext(.selfSignedServer()), try TLSContext(client))
    } catch {
        preconditionFailure("cannot make the TLS contexts: \(error)")
    }
}()
