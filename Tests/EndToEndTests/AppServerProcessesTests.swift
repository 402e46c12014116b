import Foundation
import Testing

@Suite("app-server --processes: starting up")
struct AppServerProcessesTests {
    /// Another process holds the port: the bind error, exit 1, no `Listening on`, and
    /// no connection made to the other process to see whether "we" are up.
    @Test func aPortAnotherProcessHoldsFailsWithTheBindError() throws {
        let holder = TestListener()
        let started = Date()
        let result = try runConduit(["app-server", "127.0.0.1", String(holder.port), "--processes", "2"], seconds: 15)
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(holder.port): Address already in use"), "\(result.stderr)")
        #expect(!result.stdout.contains("Listening on"), "\(result.stdout)")
        #expect(!holder.hasPendingConnection, "the parent's readiness probe connected to the other process")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// A second `--processes` server on the port of a first one: its listeners would
    /// share the port through SO_REUSEPORT and take half the connections; it must fail.
    @Test func aSecondMultiProcessServerOnTheSamePortFails() throws {
        let first = try ChildProcess(["app-server", "127.0.0.1", "0", "--processes", "2", "--log-level", "error"])
        let port = String(try #require(first.listeningPort()))
        let second = try runConduit(["app-server", "127.0.0.1", port, "--processes", "2"], seconds: 15)
        #expect(second.status == 1, "\(second.stdout) \(second.stderr)")
        #expect(second.stderr.contains("Address already in use"), "\(second.stderr)")
        #expect(!second.stdout.contains("Listening on"), "\(second.stdout)")
        first.signal(SIGTERM)
        #expect(first.finish(seconds: 15).status == 0)
    }

    /// The parent learns that its workers listen without connecting to them, so no
    /// probe connection appears in the log: the one client is the one connection.
    @Test func readinessLeavesNoConnectionInTheLog() throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--processes", "2", "--log-level", "info"])
        let port = String(try #require(server.listeningPort()))
        let client = try runConduit(["app-client", "127.0.0.1", port, "search", "ring"])
        #expect(client.status == 0)
        #expect(server.waitForOutput(containing: "Closing connection to 127.0.0.1:"))
        server.signal(SIGTERM)
        let result = server.finish(seconds: 15)
        #expect(result.status == 0)
        #expect(result.stdout.components(separatedBy: "Accepted connection from").count == 2, "\(result.stdout)")
        // Nothing was logged before the server said it was listening.
        #expect(result.stdout.hasPrefix("Listening on 127.0.0.1:\(port) (2 processes)\n"), "\(result.stdout)")
    }
}

@Suite("app-server --processes: readiness")
struct AppServerReadinessTests {
    /// The parent learns that its workers listen from their own `Listening on` lines on
    /// the pipe it reads: it opens nothing under /proc/net. (Scanning /proc/net/tcp for
    /// each worker every 20 ms took 9.8 s and 7 s of CPU with 40,000 sockets on the host,
    /// and past that gave up, saying the serving workers "did not start listening".)
    @Test func readinessIsTheWorkersOwnWordNotAScanOfProc() throws {
        let strace = "/usr/bin/strace"
        try #require(FileManager.default.isExecutableFile(atPath: strace), "strace is needed (.ci/run installs it)")
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("readiness-\(UUID().uuidString).trace").path
        defer { try? FileManager.default.removeItem(atPath: trace) }
        // LeakSanitizer stops the world with ptrace, which strace already holds: under the
        // ASan pass it would fail the exit ("does not work under ptrace"), so it is off here.
        let traced = try ChildProcess(
            executable: URL(fileURLWithPath: strace),
            ["-f", "-qq", "-e", "trace=openat", "-o", trace, conduitBinary.path,
             "app-server", "127.0.0.1", "0", "--processes", "2", "--log-level", "error"],
            environment: ["ASAN_OPTIONS": asanOptions(adding: "detect_leaks=0")])
        defer { traced.signal(SIGKILL) }
        let port = try #require(traced.listeningPort(seconds: 120))
        let client = try runConduit(["app-client", "127.0.0.1", String(port), "search", "ring"])
        #expect(client.status == 0, "\(client.stderr)")
        // strace's child is the server's parent process: stop it as a user would.
        let tracer = traced.process.processIdentifier
        let children = ((try? String(contentsOfFile: "/proc/\(tracer)/task/\(tracer)/children", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { Int32($0) }
        let parent = try #require(children.first)
        kill(parent, SIGTERM)
        #expect(traced.finish(seconds: 120).status == 0)
        let opened = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
        #expect(opened.contains("openat("), "strace recorded nothing")
        #expect(!opened.contains("/proc/net/tcp"), "\(opened.split(separator: "\n").filter { $0.contains("/proc/net") })")
    }
}

@Suite("app-server --processes: a worker that dies")
struct AppServerWorkerDeathTests {
    /// A worker that dies while serving takes the server down with a clear line (exit 1),
    /// instead of a parent left up with fewer, or no, workers.
    @Test func aWorkerDyingStopsTheServer() throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--processes", "2", "--log-level", "error"])
        #expect(server.waitForOutput(containing: "(2 processes)"))
        let parent = server.process.processIdentifier
        let workers = ((try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { Int32($0) }
        #expect(workers.count == 2)
        guard let victim = workers.first else { return }
        kill(victim, SIGKILL)
        let result = server.finish(seconds: 15)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("worker process \(victim) ended"), "\(result.stderr)")
        for pid in workers where kill(pid, 0) == 0 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            #expect(stat.split(separator: ")").last?.split(separator: " ").first == "Z", "worker \(pid) still runs")
            kill(pid, SIGKILL)
        }
    }
}

/// The test's own ASAN_OPTIONS (the CI's suppressions) with `option` added: replacing
/// them would lose the suppressions in the child.
private func asanOptions(adding option: String) -> String {
    guard let inherited = ProcessInfo.processInfo.environment["ASAN_OPTIONS"], !inherited.isEmpty else { return option }
    return inherited + ":" + option
}
