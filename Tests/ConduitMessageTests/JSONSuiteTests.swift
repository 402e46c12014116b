import ConduitMessage
import Foundation
import Testing

/// JSONTestSuite (shared/data): every `y_` file must parse, every `n_` file must be
/// rejected; `i_` files may go either way but must not crash.
@Suite("JSONTestSuite conformance")
struct JSONSuiteTests {
    static let directory: URL = {
        // Tests run from the package root in CI and locally; the corpus sits beside it.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("../shared/data/JSONTestSuite/test_parsing").standardized
    }()

    static func files(_ prefix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func contents(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test func corpusIsPresent() {
        #expect(Self.files("y_").count == 95)
        #expect(Self.files("n_").count == 188)
    }

    @Test(arguments: files("y_"))
    func accepts(name: String) throws {
        let bytes = try Self.contents(name)
        #expect(throws: Never.self, "\(name)") { try JSONParser.parse(bytes) }
    }

    @Test(arguments: files("n_"))
    func rejects(name: String) throws {
        let bytes = try Self.contents(name)
        #expect(throws: JSONError.self, "\(name)") { try JSONParser.parse(bytes) }
    }

    @Test(arguments: files("i_"))
    func implementationDefinedDoesNotCrash(name: String) throws {
        let bytes = try Self.contents(name)
        _ = try? JSONParser.parse(bytes)
    }
}
