import ConduitTestSupport
import Foundation
import Testing

/// `conduit load --compare`: a server that answers correctly in an encoding of its own
/// (Tests/Interop/py_reencoding_server.py: header keys reversed, no spaces, big-endian
/// byte order, JSON content pretty-printed with ASCII escapes) fails the byte-exact
/// default and passes the semantic comparison.
@Suite("conduit load --compare exact|semantic")
struct LoadCompareTests {
    @Test(arguments: ["search", "binary"])
    func aValidButDifferentlyEncodedServer(workload: String) throws {
        let server = try python("py_reencoding_server.py", ["127.0.0.1", "0"])
        defer {
            server.signal(SIGTERM)
            server.finish(seconds: 10)
        }
        let port = try #require(server.listeningPort())
        let run = { (compare: [String]) in
            try runConduit(
                ["load", "--target", "127.0.0.1:\(port)", "--workload", workload, "--duration", "1s", "--connections", "4",
                 "--pipeline", "2", "--quiet"] + compare)
        }
        let exact = try run([])
        #expect(exact.status == 1, "\(exact.stdout) \(exact.stderr)")
        #expect(exact.stdout.contains("compare: exact"))
        #expect(exact.stdout.contains("wrong response (bytes differ from the expected answer)"), "\(exact.stdout)")
        #expect(exact.stderr.contains("hint: the answers are well-formed messages with other bytes than Conduit's"),
                "\(exact.stderr)")
        #expect(exact.stderr.contains("--compare semantic compares their meaning"), "\(exact.stderr)")

        let semantic = try run(["--compare", "semantic"])
        #expect(semantic.status == 0, "\(semantic.stdout) \(semantic.stderr)")
        #expect(semantic.stdout.contains("compare: semantic"))
        #expect(semantic.stdout.contains("errors: 0"), "\(semantic.stdout)")
        #expect(!semantic.stdout.contains("requests: 0 correct"), "\(semantic.stdout)")
    }

    /// Semantic comparison is no looser about what the answer is: against an echo server
    /// every search request gets its own bytes back, which is no answer at all.
    @Test func semanticStillFailsAWrongServer() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet"])
        defer {
            server.signal(SIGTERM)
            server.finish(seconds: 10)
        }
        let port = try #require(server.listeningPort())
        let result = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--duration", "500ms", "--connections", "3", "--quiet",
            "--compare", "semantic",
        ])
        #expect(result.status == 1)
        #expect(result.stdout.contains("3  wrong response (not the expected answer: compared by meaning)"), "\(result.stdout)")
        #expect(result.stderr.contains("hint: the server sent the request back (b'"), "\(result.stderr)")
        #expect(result.stderr.contains("): for an echo server use --workload echo"), "\(result.stderr)")
    }

    /// An app server at its connection limit answers the connections above it with an
    /// error message: counted as wrong, and the hint says what the server said.
    @Test func aServerAtItsLimitIsNamedInTheHint() throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--max-connections", "1", "--log-level", "error"])
        defer {
            server.signal(SIGTERM)
            server.finish(seconds: 10)
        }
        let port = try #require(server.listeningPort())
        let result = try runConduit(["load", "--target", "127.0.0.1:\(port)", "--duration", "500ms", "--connections", "3", "--quiet"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(
            "hint: the server refused connections above its limit ('Error: server busy: at its limit of 1 connection')"),
            "\(result.stdout) \(result.stderr)")
    }

    /// `--processes` hands the comparison to its worker processes.
    @Test func workerProcessesCompareAsAsked() throws {
        let server = try python("py_reencoding_server.py", ["127.0.0.1", "0"])
        defer {
            server.signal(SIGTERM)
            server.finish(seconds: 10)
        }
        let port = try #require(server.listeningPort())
        let result = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--processes", "2", "--connections", "4", "--duration", "1s",
            "--quiet", "--compare", "semantic",
        ])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("compare: semantic"))
        #expect(result.stdout.contains("errors: 0"))
    }
}
