@_spi(Fuzzing) import ConduitLoad

/// Feeds `chunks` to `matcher` the way a connection does (bytes left unconsumed are
/// offered again with the next chunk) and returns the verdicts in order.
func verdicts(_ matcher: inout ResponseMatcher, _ chunks: [[UInt8]]) -> [ResponseMatcher.Verdict] {
    var found: [ResponseMatcher.Verdict] = []
    var pending: [UInt8] = []
    for chunk in chunks {
        pending += chunk
        var offset = 0
        while offset < pending.count {
            let step = pending.withUnsafeBytes { matcher.match(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            offset += step.consumed
            guard let verdict = step.verdict else { break }
            found.append(verdict)
        }
        pending.removeFirst(offset)
    }
    return found
}

/// A matcher for `responses` with `inFlight` requests sent.
func matcher(_ responses: [[UInt8]], _ comparison: ResponseComparison, inFlight: Int) -> ResponseMatcher {
    var matcher = ResponseMatcher(ResponseExpectations(responses: responses, comparison: comparison))
    for _ in 0..<inFlight { matcher.requestSent() }
    return matcher
}

/// A message written by hand: the 2-byte length, `header` as given, then `content`.
func frame(header: String, content: [UInt8]) -> [UInt8] {
    let bytes = Array(header.utf8)
    return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes + content
}

/// A JSON message with `content` and a header written unlike ours: keys reversed, no
/// spaces, `"byteorder": "big"`.
func reencoded(json content: String) -> [UInt8] {
    let bytes = Array(content.utf8)
    return frame(
        header: #"{"content-length":\#(bytes.count),"content-encoding":"utf-8","content-type":"text/json","byteorder":"big"}"#,
        content: bytes)
}

/// A message with our header layout but any `type` and `encoding`, for `content`.
func message(type: String, encoding: String, _ content: String) -> [UInt8] {
    let bytes = Array(content.utf8)
    return frame(
        header: #"{"byteorder": "little", "content-type": "\#(type)", "content-encoding": "\#(encoding)", "content-length": \#(bytes.count)}"#,
        content: bytes)
}
