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
    /// close (or reset) is counted for it, and the run fails, as before.
    @Test func keptConnectionsCountTheClose() throws {
        let run = try Self.load(["--duration", "500ms", "--connections", "5"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("5 correct responses"), "\(run.stdout)")
        // The second request meets the server's FIN, or (if it arrived after the close)
        // its reset: one error per connection either way.
        #expect(run.stdout.contains("errors: 5"), "\(run.stdout)")
        #expect(run.stdout.contains("connection closed by server") || run.stdout.contains("Connection reset by peer"))
    }
}

extension OneShotServerTests {
    /// Thresholds gate the run: a crossed one exits 99 and is named; errors that a
    /// threshold on errors accepts do not fail it.
    @Test func thresholdsGateTheRun() throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let crossed = try Self.load([
            "--requests-per-connection", "1", "--duration", "500ms", "--connections", "2",
            "--threshold", "errors==0", "--threshold", "rps>=10m", "--json", json.path,
        ])
        #expect(crossed.status == 99, "\(crossed.stdout)\n\(crossed.stderr)")
        #expect(crossed.stdout.contains("thresholds: 1 of 2 held"))
        #expect(crossed.stdout.contains("CROSSED rps>=10m"))
        #expect(crossed.stderr.contains("conduit: threshold crossed: rps>=10m"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let thresholds = try #require(object["thresholds"] as? [[String: Any]])
        #expect(thresholds.map { $0["threshold"] as? String } == ["errors==0", "rps>=10m"])
        #expect(thresholds.map { $0["held"] as? Bool } == [true, false])
        // Kept connections: each second request finds the server's close, an error that
        // a threshold on errors judges instead of the exit status.
        let accepted = try Self.load(["--duration", "300ms", "--connections", "2", "--threshold", "errors<=2"])
        #expect(accepted.status == 0, "\(accepted.stdout)\n\(accepted.stderr)")
        #expect(accepted.stdout.contains("held    errors<=2  (errors 2)"))
    }
}
