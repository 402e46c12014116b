import ConduitTestSupport
import Foundation
import Testing

/// A listener of the test process itself.
typealias TestListener = LoopbackListener

/// The command name the kernel keeps for `pid` (what `ps -o comm` shows).
func commandName(_ pid: Int32) -> String {
    ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
}

/// The fields of `stat`'s rows (header left out).
func statRows(_ output: String) -> [[String]] {
    output.split(separator: "\n").filter { !$0.hasPrefix("Proto ") && !$0.isEmpty }.map {
        $0.split(separator: " ").map(String.init)
    }
}

@Suite("conduit stat: sockets with their owning process, like ss -p")
struct StatCommandTests {
    @Test func aSpawnedServersListenerShowsItsPIDAndCommand() throws {
        let server = try ChildProcess(["app-server-test", "127.0.0.1", "0"])
        let port = try #require(server.listeningPort())
        let stat = try runConduit(["stat", "--port", String(port), "--state", "listen"])
        #expect(stat.status == 0, "\(stat.stderr)")
        #expect(stat.stdout.hasPrefix("Proto Recv-Q Send-Q  Local Address            Foreign Address          State       PID/Program name\n"))
        let rows = statRows(stat.stdout)
        #expect(rows.count == 1, "\(stat.stdout)")
        #expect(rows.first?[3] == "127.0.0.1:\(port)")
        #expect(rows.first?[5] == "LISTEN")
        #expect(rows.first?.last == "\(server.process.processIdentifier)/conduit", "\(stat.stdout)")
        server.signal(SIGTERM)
        #expect(server.finish(seconds: 10).status == 0)
    }

    @Test func aSocketOfTheTestProcessShowsTheTestProcess() throws {
        let listener = TestListener()
        let stat = try runConduit(["stat", "--port", String(listener.port)])
        #expect(stat.status == 0)
        let rows = statRows(stat.stdout)
        #expect(rows.count == 1, "\(stat.stdout)")
        #expect(rows.first?.last == "\(getpid())/\(commandName(getpid()))", "\(stat.stdout)")
    }

    /// `--watch` refreshes once a second; `--count` bounds it.
    @Test func watchRefreshesUntilTheCount() throws {
        let listener = TestListener()
        let started = Date()
        let stat = try runConduit(["stat", "--port", String(listener.port), "--watch", "--count", "3"], seconds: 20)
        let elapsed = Date().timeIntervalSince(started)
        #expect(stat.status == 0, "\(stat.stderr)")
        #expect(stat.stdout.components(separatedBy: "Proto Recv-Q").count == 4, "\(stat.stdout)")
        #expect(stat.stdout.components(separatedBy: "\(getpid())/").count == 4)
        // Three refreshes a second apart take two seconds at least, however fast the
        // machine. No upper bound here: how much longer depends on the machine's load,
        // and a --watch that never ended would be killed at the 20 s limit above and
        // fail the status check.
        #expect(elapsed >= 1.9, "three refreshes a second apart took \(elapsed) s")
    }

    /// Ctrl-C ends `--watch` cleanly.
    @Test func watchStopsOnSIGINT() throws {
        let listener = TestListener()
        let stat = try ChildProcess(["stat", "--port", String(listener.port), "--watch"])
        #expect(stat.waitForOutput(containing: "/\(commandName(getpid()))"))
        stat.signal(SIGINT)
        let result = stat.finish(seconds: 10)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
    }

    @Test func countWithoutWatchIsAUsageError() throws {
        let result = try runConduit(["stat", "--count", "2"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--count"))
    }
}
