@_spi(Reference) import ConduitApp
import ConduitMessage
import FuzzSupport

/// libFuzzer entry point for what a peer's content reaches: the JSON parser and writer,
/// and the application's routing (`Router.tutorial()`: the search action, the answer to
/// an unknown action with Python's `str()` of it, the binary responder). Every input is
/// used three ways, so JSONTestSuite's files and message vectors are seeds alike:
/// - as JSON text: parsing never crashes; a parsed value written by `JSONWriter` parses
///   back equal, and writing that again gives the same bytes;
/// - as the content of a `text/json` request: the router answers exactly when the
///   content is a JSON object (a protocol error otherwise), and its answer (or the error
///   answer the server would send) encodes to one valid message that reads back as the
///   same response, and it equals what the tree-building `referenceRoute` answers;
/// - as a stream of messages: each one the decoder accepts is routed the same way.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    checkJSONRoundTrip(bytes)
    checkRoutingAsContent(bytes)
    checkRoutingAsStream(bytes)
    return 0
}

let router = Router.tutorial()

func checkJSONRoundTrip(_ bytes: UnsafeRawBufferPointer) {
    guard let value = try? JSONParser.parse(bytes) else { return }
    let written = JSONWriter.encode(value)
    let again: JSONValue
    do {
        again = try JSONParser.parse(written)
    } catch {
        preconditionFailure("JSONWriter wrote what the parser rejects: \(error); \(JSONWriter.text(value))")
    }
    precondition(again == value, "written and parsed again, the value changed: \(JSONWriter.text(value))")
    // Equality of strings is canonical equivalence; the bytes show any change of scalars.
    precondition(JSONWriter.encode(again) == written, "writing is not a fixed point: \(JSONWriter.text(value))")
}

func checkRoutingAsContent(_ bytes: UnsafeRawBufferPointer) {
    var stream: [UInt8] = []
    // A text/json header with a number in it: far below the 65,535-byte limit.
    try! MessageEncoder.append(contentType: .json, contentEncoding: "utf-8", content: bytes, to: &stream)
    var decoder = MessageDecoder(limits: MessageLimits(maxHeaderBytes: 65_535, maxContentLength: 1 << 20))
    var routed = 0
    let consumed = stream.withUnsafeBytes { buffer in
        try? decoder.decode(buffer) { message in
            routed += 1
            let isObject: Bool
            if case .object? = try? JSONParser.parse(message.content) { isObject = true } else { isObject = false }
            let inPlace = Result { () throws(MessageError) in try router.route(message) }
            let tree = Result { () throws(MessageError) in try router.referenceRoute(message) }
            precondition(inPlace == tree, "routing in place gave \(inPlace), through a tree \(tree)")
            let response: Response
            do throws(MessageError) {
                response = try router.route(message)
                precondition(isObject, "the router answered content that is not a JSON object")
            } catch {
                precondition(!isObject, "the router refused a JSON object: \(error)")
                guard case .invalidContent = error else { preconditionFailure("refused utf-8 JSON for \(error)") }
                response = .error(error.description)
            }
            checkEncodes(response)
            return true
        }
    }
    precondition(consumed == stream.count && routed == 1, "our own encoding of the content did not decode as one message")
}

func checkRoutingAsStream(_ bytes: UnsafeRawBufferPointer) {
    var decoder = MessageDecoder(limits: MessageLimits(maxHeaderBytes: 4096, maxContentLength: 1 << 16))
    do throws(MessageError) {
        _ = try decoder.decode(bytes) { message in
            do throws(MessageError) {
                checkEncodes(try router.route(message))
            } catch {
                checkEncodes(.error(error.description))
            }
            return true
        }
    } catch {
        // What the server answers a malformed message with, before it closes.
        checkEncodes(.error(error.description))
    }
}

/// The response encodes to exactly one message that reads back as the same response.
func checkEncodes(_ response: Response) {
    var out: [UInt8] = []
    do {
        try response.encode(into: &out)
    } catch {
        // Only a binary content type longer than a header can hold may fail; the
        // tutorial's router has one fixed, short type.
        preconditionFailure("a response failed to encode: \(error)")
    }
    var decoder = MessageDecoder(limits: MessageLimits(maxHeaderBytes: 65_535, maxContentLength: 1 << 24))
    var decoded: [Response] = []
    let consumed = out.withUnsafeBytes { buffer in
        Result { () throws(MessageError) in
            try decoder.decode(buffer) { message in
                decoded.append((try? Response.decode(message)) ?? .binary(contentType: "undecodable", content: []))
                return true
            }
        }
    }
    precondition((try? consumed.get()) == out.count, "an encoded response does not decode: \(consumed)")
    precondition(decoded == [response], "an encoded response reads back differently: \(decoded) vs \(response)")
}

/// SwiftPM links an executable's entry point under this name; hand over to libFuzzer.
@_cdecl("ContentFuzzer_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzOneInput(data, size)
    }
}
