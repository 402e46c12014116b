import ConduitApp
import ConduitMessage

/// The requests of a workload and the exact response each must get. Requests go out
/// in turn from a few variants whose answers differ, so an answer out of step — a
/// duplicate, an extra one, one for another request — is caught as wrong instead of
/// passing for the answer to the next request (identical answers could not tell).
package struct WorkloadMessages: Sendable {
    /// The request variants, used in turn.
    package let requests: [[UInt8]]
    /// `responses[i]` is the one correct answer to `requests[i]`.
    package let responses: [[UInt8]]

    /// The request with this sequence number (0, 1, 2, … per connection).
    package func request(_ sequence: Int) -> [UInt8] { requests[sequence % requests.count] }
    /// The answer the request with this sequence number must get.
    package func response(_ sequence: Int) -> [UInt8] { responses[sequence % responses.count] }

    /// Variants of these requests and answers (as many of each, at least one).
    package init(requests: [[UInt8]], responses: [[UInt8]]) {
        precondition(!requests.isEmpty && requests.count == responses.count, "one answer for each request variant")
        self.requests = requests
        self.responses = responses
    }

    /// The variants for `workload` with payload `size`.
    package init(workload: Workload, size: Int) {
        switch workload {
        case .search:
            // Three of the tutorial's keys, each with its own answer.
            let keys = ["morpheus", "ring", "🐶"]
            requests = keys.map { AppRequest(action: "search", value: $0).encoded() }
            responses = keys.map { key in
                var out: [UInt8] = []
                // The tutorial's answers: small fixed headers, far below the 65,535-byte limit.
                try! Response.result(.string(SearchService.table[key]!)).encode(into: &out)
                return out
            }
        case .binary:
            let contents = (0..<3).map { Self.payload(size: size, variant: $0) }
            // A fixed, short content type: the header is far below the 65,535-byte limit.
            requests = contents.map {
                try! MessageEncoder.binaryMessage($0, contentType: "binary/custom-client-binary-type")
            }
            responses = contents.map { content in
                var out: [UInt8] = []
                let answer = Array("First 10 bytes of request: ".utf8) + content.prefix(10)
                try! Response.binary(contentType: BinaryResponder.contentType, content: answer).encode(into: &out)
                return out
            }
        case .echo:
            requests = (0..<3).map { Self.payload(size: size, variant: $0) }
            responses = requests
        }
    }

    /// Letters from `a` on, shifted by `variant`, so the variants differ from byte 0.
    private static func payload(size: Int, variant: Int) -> [UInt8] {
        (0..<size).map { UInt8(ascii: "a") + UInt8(($0 + variant) % 26) }
    }
}
