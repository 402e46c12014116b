import ConduitTestSupport
import Foundation
import Testing

@Suite("conduit load, as a user runs it")
struct LoadCommandTests {
    @Test func embeddedRunWritesJSONWithTheDocumentedFields() throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-load-\(UUID()).json")
        let hgrm = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-load-\(UUID()).hgrm")
        defer {
            try? FileManager.default.removeItem(at: json)
            try? FileManager.default.removeItem(at: hgrm)
        }
        let result = try runConduit([
            "load", "--duration", "1500ms", "--connections", "20", "--json", json.path, "--hgrm", hgrm.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("target: embedded server at 127.0.0.1:"))
        #expect(result.stdout.contains("errors: 0"))
        #expect(result.stderr.contains("[1s] connections 20/20"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        for key in [
            "target", "embedded", "workload", "compare", "backend", "connections", "connections_up", "connect_ms", "pipeline",
            "duration_s", "requests", "sent", "requests_per_second", "error_count", "errors", "latency_ns",
            "service_time_ns", "series",
        ] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["connections_up"] as? Int == 20)
        // Closed loop: every connection sends at once, so every one is answered.
        #expect(object["connections_answered"] as? Int == 20)
        #expect(object["error_count"] as? Int == 0)
        #expect((object["requests"] as? Int ?? 0) > 0)
        #expect(object["requests"] as? Int == object["sent"] as? Int)
        let latency = try #require(object["latency_ns"] as? [String: Any])
        for key in ["p50", "p90", "p99", "p99_9", "p99_99", "max", "mean", "count"] { #expect(latency[key] != nil, "\(key)") }
        #expect(latency["count"] as? Int == object["requests"] as? Int)
        let series = try #require(object["series"] as? [[String: Any]])
        #expect(series.first?["second"] as? Int == 1)
        // snake_case like every other key.
        #expect(Set(series.first?.keys.map { $0 } ?? []) == ["second", "requests", "errors", "connections_up", "p99_nanoseconds"])
        #expect(try String(contentsOf: hgrm, encoding: .utf8).contains("Percentile"))
    }

    @Test(arguments: commandBackends)
    func againstASeparateAppServer(backend: String) throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--log-level", "warning", "--backend", backend])
        let port = try #require(server.listeningPort())
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-load-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let result = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--duration", "1s", "--connections", "50", "--pipeline", "2",
            "--workload", "binary", "--size", "200", "--backend", backend, "--quiet", "--json", json.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        #expect(object["error_count"] as? Int == 0)
        #expect(object["connections_up"] as? Int == 50)
        #expect(object["requests"] as? Int == object["sent"] as? Int)
        server.signal(SIGTERM)
        #expect(server.finish(seconds: 10).status == 0)
    }

    @Test func againstMulticonnServerWithEcho() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet"])
        let port = try #require(server.listeningPort())
        let result = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--duration", "1s", "--connections", "30", "--workload", "echo",
            "--size", "1000", "--quiet",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("connections: 30 of 30 established"))
        #expect(result.stdout.contains("errors: 0"))
        server.signal(SIGTERM)
        #expect(server.finish(seconds: 10).status == 0)
    }

    @Test func closedPortFailsClearly() throws {
        let port = freePort()
        let result = try runConduit(["load", "--target", "127.0.0.1:\(port)", "--duration", "500ms", "--connections", "5", "--quiet"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("5  connect: connection refused"))
        #expect(result.stderr.contains("connection refused: is a server listening on 127.0.0.1:\(port)?"))
    }

    @Test func tooManyConnectionsForOneProcessSaysWhichLimit() throws {
        let result = try runConduit(["load", "--connections", "15k", "--duration", "1s"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("open files"))
        #expect(result.stderr.contains("--processes"))
    }

    @Test func badOptionsAreExplained() throws {
        let result = try runConduit(["load", "--duration", "soon"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--duration"))
    }
}

@Suite("Several processes on each side (--processes)")
struct ProcessesTests {
    @Test func loadWorkersAgainstAppServerWorkersMergeIntoOneReport() throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--processes", "2", "--log-level", "error"])
        #expect(server.waitForOutput(containing: "(2 processes)"))
        let port = try #require(server.listeningPort())
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-load-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let result = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--processes", "2", "--connections", "41", "--duration", "1500ms",
            "--source-addresses", "2", "--json", json.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[1s] connections 41/41"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        #expect(object["connections"] as? Int == 41)
        #expect(object["connections_up"] as? Int == 41)
        #expect(object["error_count"] as? Int == 0)
        #expect((object["requests"] as? Int ?? 0) > 0)
        #expect(object["requests"] as? Int == object["sent"] as? Int)
        let latency = try #require(object["latency_ns"] as? [String: Any])
        #expect(latency["count"] as? Int == object["requests"] as? Int, "the workers' histograms merged")
        server.signal(SIGTERM)
        let stopped = server.finish(seconds: 15)
        #expect(stopped.status == 0)
        #expect(stopped.stdout.contains("stopping 2 worker processes"))
    }

    /// "p99 so far" is of every answer so far, from every process: a server slow in its
    /// first two seconds keeps it above a second to the end, where the worst of the
    /// last second alone fell to milliseconds.
    @Test func progressP99IsOfTheWholeRunSoFar() throws {
        let server = try python("slow_start_echo.py", ["2", "1"])
        defer { server.signal(SIGKILL) }
        let port = try #require(server.listeningPort())
        let result = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--workload", "echo", "--size", "16", "--processes", "2",
            "--connections", "4", "--rate", "100", "--duration", "5s",
        ], seconds: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("[") && $0.contains("p99 so far") }
        let last = try #require(lines.last, "\(result.stderr)")
        // More than 1 % of the answers so far waited a second or more: the p99 is in seconds.
        let words = last.split(separator: " ")
        let at = try #require(words.firstIndex(of: "far"), "\(last)")
        #expect(words.count > at + 2 && words[at + 2] == "s", "\(lines)")
    }

    @Test func embeddedServerProcessesToo() throws {
        let result = try runConduit(["load", "--processes", "2", "--connections", "20", "--duration", "1s", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("target: embedded server at 127.0.0.1:"))
        #expect(result.stdout.contains("connections: 20 of 20 established"))
        #expect(result.stdout.contains("errors: 0"))
        // Quiet means the report alone: the embedded server's workers keep their loop
        // counters to themselves.
        #expect(!result.stderr.contains("loops:"), "\(result.stderr)")
    }
}

@Suite("Worker processes never outlive their parent")
struct WorkerLifetimeTests {
    @Test func appServerWorkersStopWhenTheParentIsKilled() throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--processes", "2", "--log-level", "error"])
        #expect(server.waitForOutput(containing: "(2 processes)"))
        let parent = server.process.processIdentifier
        let children = ((try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { Int32($0) }
        #expect(children.count == 2)
        // This test is about a parent dying while its workers serve, so wait until both
        // have finished starting: they listen (the parent's line says so), then set up
        // the handling of SIGTERM, the signal their parent's death sends them. Until
        // then that signal would meet the default action (death, but not by the path
        // under test) or, while the handler is being installed, find it ignored.
        #expect(Self.waitUntilCatchingSIGTERM(children), "workers \(children) never set up SIGTERM handling")
        server.signal(SIGKILL)
        // Also waits for the end of file on the output pipes the workers inherited.
        server.finish(seconds: 10)
        let alive = Self.survivors(children)
        #expect(alive.isEmpty, "workers \(alive) outlived their parent")
        for pid in alive { kill(pid, SIGKILL) }
    }

    /// `load --processes` without --target starts an embedded `app-server --processes`,
    /// which starts workers of its own: none of them may outlive a killed load.
    @Test func embeddedServerProcessesStopWhenLoadIsKilled() throws {
        let load = try ChildProcess(["load", "--processes", "2", "--connections", "4", "--duration", "60s"])
        #expect(load.waitForError(containing: "[1s] connections 4/4", seconds: 20))
        let descendants = Self.descendants(of: load.process.processIdentifier)
        #expect(descendants.count == 5, "2 load workers, the server's parent and its 2 workers: \(descendants)")
        // Every one of them is past its start-up (see above), not just serving.
        #expect(Self.waitUntilCatchingSIGTERM(descendants), "\(descendants) never set up SIGTERM handling")
        load.signal(SIGKILL)
        // Also waits for the end of file on the stderr pipe they all inherited.
        load.finish(seconds: 10)
        let alive = Self.survivors(descendants)
        #expect(alive.isEmpty, "\(alive) outlived the load process")
        for pid in alive { kill(pid, SIGKILL) }
    }

    static func descendants(of pid: Int32) -> [Int32] {
        let children = ((try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { Int32($0) }
        return children + children.flatMap { descendants(of: $0) }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// True once `pid` blocks SIGTERM (the SigBlk mask in /proc): the first thing a
    /// conduit process does (`ProcessSignals.takeOver`), after which its signal thread
    /// takes every SIGTERM, including the one its parent's death sends.
    static func catchesSIGTERM(_ pid: Int32) -> Bool {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") } ?? ""
        let mask = UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
        return mask & (1 << (UInt64(SIGTERM) - 1)) != 0
    }

    /// Waits (at most `seconds`) until every one of `pids` catches SIGTERM. A process
    /// says nothing when it gets there, so this polls /proc with a deadline.
    static func waitUntilCatchingSIGTERM(_ pids: [Int32], seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !pids.allSatisfy(catchesSIGTERM) {
            guard Date() < deadline else { return false }
            usleep(10_000)
        }
        return true
    }

    /// Which of `pids` still run (at most `seconds` later). They are not our children,
    /// so there is no wait(); a pidfd would be the event, but pidfd_open is not in
    /// Swift's Glibc module and syscall() is variadic. So this polls with a deadline;
    /// normally everything is gone at the first look, because the caller has already
    /// waited for the end of file on a pipe they all held.
    static func survivors(_ pids: [Int32], seconds: Double = 10) -> [Int32] {
        let deadline = Date().addingTimeInterval(seconds)
        var alive = pids.filter { kill($0, 0) == 0 && !isZombie($0) }
        while !alive.isEmpty && Date() < deadline {
            usleep(20_000)
            alive = alive.filter { kill($0, 0) == 0 && !isZombie($0) }
        }
        return alive
    }
}

/// A run that measured nothing is not a success.
@Suite("conduit load fails runs that measured nothing")
struct EmptyRunTests {
    /// A listener that never accepts: the handshakes complete in the kernel's backlog,
    /// so connections "establish", but no request is ever answered.
    @Test func aListenerThatNeverAnswersFailsTheRun() throws {
        let silent = LoopbackListener(backlog: 64)
        let result = try runConduit(
            ["load", "--target", "127.0.0.1:\(silent.port)", "--duration", "500ms", "--drain", "0s", "--connections", "5", "--quiet"],
            seconds: 30)
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("conduit: no request completed"), "\(result.stderr)")
    }

    /// A file that can be opened but not written (/dev/full takes nothing) fails at the
    /// end: the run fails naming the option, the file and the reason, and the other
    /// files are still written.
    @Test func anOutputThatFailsAtTheEndIsNamed() throws {
        let hgrm = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID()).hgrm").path
        defer { try? FileManager.default.removeItem(atPath: hgrm) }
        let result = try runConduit(["load", "--duration", "300ms", "--quiet", "--json", "/dev/full", "--hgrm", hgrm], seconds: 60)
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("cannot write the --json file /dev/full: No space left on device"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: hgrm))
    }

    /// Nothing listens: every connect is refused, and the run ends as soon as the last
    /// has failed, with the reason, instead of waiting out its ten minutes.
    @Test func aPortWhereNothingListensEndsTheRunAtOnce() throws {
        let nobody = LoopbackListener(listening: false)
        let result = try runConduit(
            ["load", "--target", "127.0.0.1:\(nobody.port)", "--duration", "10m", "--threads", "2"], seconds: 120)
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("connections: 0 of 50 established"), "\(result.stdout)")
        #expect(result.stderr.contains("is a server listening on 127.0.0.1:\(nobody.port)?"), "\(result.stderr)")
    }
}
