import ConduitMessage
import Foundation
import Testing

/// JSONTestSuite (vendored in `Tests/Fixtures/JSONTestSuite`, MIT): every `y_` file must
/// parse, every `n_` file must be rejected; `i_` files may go either way but must not
/// crash. A missing corpus fails `corpusIsPresent` by name instead of running no cases.
@Suite("JSONTestSuite conformance")
struct JSONSuiteTests {
    static let directory: URL = {
        // Found from this file, so it works from any working directory.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/JSONTestSuite/test_parsing").standardized
    }()

    static func files(_ prefix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func contents(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test func corpusIsPresent() {
        #expect(
            FileManager.default.fileExists(atPath: Self.directory.path),
            "JSONTestSuite corpus missing at \(Self.directory.path)")
        #expect(Self.files("y_").count == 95)
        #expect(Self.files("n_").count == 188)
        #expect(Self.files("i_").count == 35)
    }

    /// Every input in one test, so a run prints one line for the corpus, not one per file.
    @Test func acceptsEveryY() throws {
        for name in Self.files("y_") {
            do { try accepts(name: name) } catch { Issue.record("\(name): \(error)") }
        }
    }

    func accepts(name: String) throws {
        let bytes = try Self.contents(name)
        #expect(throws: Never.self, "\(name)") { try JSONParser.parse(bytes) }
    }

    /// Every input in one test, so a run prints one line for the corpus, not one per file.
    @Test func rejectsEveryN() throws {
        for name in Self.files("n_") {
            do { try rejects(name: name) } catch { Issue.record("\(name): \(error)") }
        }
    }

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
