@_spi(Reference) import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Testing

/// The router reads `text/json` content in place; `referenceRoute` routes the same
/// message through a parsed tree. Both must give the same answer or the same error, for
/// the content fuzz corpus and for the cases that tell them apart: repeated, escaped,
/// nested and non-ASCII action names, limits, encodings.
@Suite("In-place routing agrees with the tree")
struct InPlaceRoutingTests {
    /// The tutorial's router (`search` in place) and one whose actions take trees.
    static let routers: [Router] = {
        var tree = Router(binary: { _, _ in .binary(contentType: "x", content: [1]) })
        tree.register(action: "search") { SearchService.search(parsed: $0) }
        tree.register(action: "é") { _ in .string("precomposed") }
        tree.register(action: "echo") { $0 }
        return [Router.tutorial(), tree]
    }()

    static let contents: [String] = [
        #"{"action": "search", "value": "morpheus"}"#,
        #"{"action": "search", "value": "🐶"}"#,
        #"{"action": "search", "value": "\ud83d\udc36"}"#,
        #"{"action": "se\u0061rch", "value": "ring"}"#,
        #"{"action": "nothing", "action": "search", "value": "ring"}"#,
        #"{"action": "search", "action": "nothing"}"#,
        #"{"action": {"action": "search"}}"#,
        #"{"action": 7}"#, #"{"value": "x"}"#, #"{}"#, #"[]"#, #""search""#, #"{"action": "search""#,
        #"{"action": "e\u0301"}"#, #"{"action": "é"}"#, #"{"action": "echo", "value": [1, {"a": null}]}"#,
        #"{"action": "search", "value": [[[[[[[[1]]]]]]]]}"#, "{\"action\": \"search\", \"value\": \"\u{1}\"}",
    ]

    static func outcome(_ router: Router, _ content: [UInt8], encoding: String, reference: Bool) -> Result<Response, MessageError> {
        let limits = MessageLimits(maxContentDepth: 6, maxContentValues: 12)
        var stream: [UInt8] = []
        content.withUnsafeBytes {
            try! MessageEncoder.append(contentType: .json, contentEncoding: encoding, content: $0, to: &stream)
        }
        var decoder = MessageDecoder()
        var result: Result<Response, MessageError>?
        _ = stream.withUnsafeBytes { bytes in
            try? decoder.decode(bytes) { message in
                result = Result { () throws(MessageError) in
                    reference ? try router.referenceRoute(message, limits: limits) : try router.route(message, limits: limits)
                }
                return false
            }
        }
        return result ?? .failure(.emptyHeader)
    }

    static func expectAgreement(_ content: [UInt8], _ label: String) {
        for router in routers {
            for encoding in ["utf-8", "UTF8", "Utf-8", "latin-1", "utf-16"] {
                let inPlace = outcome(router, content, encoding: encoding, reference: false)
                let tree = outcome(router, content, encoding: encoding, reference: true)
                #expect(inPlace == tree, "\(label) as \(encoding)")
            }
        }
    }

    @Test(arguments: contents)
    func agreesOnCases(content: String) {
        Self.expectAgreement(Array(content.utf8), content)
    }

    @Test func agreesOnTheContentCorpus() throws {
        let paths = FuzzInputs.paths("content")
        #expect(paths.count >= 50)
        for path in paths { Self.expectAgreement(try FuzzInputs.bytes(path), path) }
    }

    @Test func anInPlaceActionReadsItsRequest() throws {
        var router = Router.tutorial()
        router.register(inPlaceAction: "length") { request in
            .number(String(request.plainString("value")?.count ?? -1))
        }
        let content = Array(#"{"action": "length", "value": "four"}"#.utf8)
        #expect(Self.outcome(router, content, encoding: "utf-8", reference: false) == .success(.result(.number("4"))))
    }
}
