import ConduitApp
import ConduitMessage

/// The bytes of one request of a workload and of the exact response it must get.
/// Every response is compared byte for byte with `response`.
package struct WorkloadMessages: Sendable {
    /// One request.
    package let request: [UInt8]
    /// The one correct response.
    package let response: [UInt8]

    /// The request and expected response for `workload` with payload `size`.
    package init(workload: Workload, size: Int) {
        switch workload {
        case .search:
            request = AppRequest(action: "search", value: "morpheus").encoded()
            var out: [UInt8] = []
            try! Response.result(.string(SearchService.table["morpheus"]!)).encode(into: &out)
            response = out
        case .binary:
            let content = (0..<size).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            // A fixed, short content type: the header is far below the 65,535-byte limit.
            request = try! MessageEncoder.binaryMessage(content, contentType: "binary/custom-client-binary-type")
            var out: [UInt8] = []
            let answer = Array("First 10 bytes of request: ".utf8) + content.prefix(10)
            try! Response.binary(contentType: BinaryResponder.contentType, content: answer).encode(into: &out)
            response = out
        case .echo:
            request = (0..<size).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            response = request
        }
    }
}
