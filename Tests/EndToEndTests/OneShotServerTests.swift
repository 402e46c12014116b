import Foundation
import Glibc
import Testing

/// A server that answers once and closes, as the tutorial's does (Tests/Interop/
/// oneshot_app_server.py, written apart from Conduit with Python's json): loaded one
/// request per connection, every answer is byte-exact with Conduit's own encoding.
@Suite("conduit load against a one-answer-per-connection Python server")
struct OneShotServerTests {
    /// Runs `conduit load ARGUMENTS --target` against a fresh one-shot server.
    static func load(_ arguments: [String]) throws -> RunResult {
        let server = try python("oneshot_app_server.py", ["0"])
        defer {
            server.signal(SIGTERM)
            server.finish(seconds: 10)
        }
        let port = try #require(server.listeningPort())
        return try runConduit(["load", "--target", "127.0.0.1:\(port)", "--quiet"] + arguments)
    }

    @Test(arguments: ["search", "binary"])
    func oneRequestPerConnectionHasNoErrors(workload: String) throws {
        let run = try Self.load([
            "--workload", workload, "--requests-per-connection", "1", "--duration", "1s", "--connections", "5",
        ])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("errors: 0"))
        #expect(run.stdout.contains("connect latency:"))
        #expect(run.stdout.contains("1 answer per connection"))
    }

    /// Without churn each connection's second request finds the connection closed: the
    /// close is counted for it, and the run fails, as before.
    @Test func keptConnectionsCountTheClose() throws {
        let run = try Self.load(["--duration", "500ms", "--connections", "5"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("5 correct responses"), "\(run.stdout)")
        #expect(run.stdout.contains("connection closed by server"))
    }
}
