import ConduitTestSupport
import Foundation
import Testing

@Suite("conduit load --segment and --start-at: one test split over several instances")
struct LoadSegmentTests {
    /// Three instances, each its share of an 11-connection test (3 does not divide 11),
    /// started together: their connections add up to the whole test, nobody fails, the
    /// server accepted exactly that many, and each says how far from the instant it began.
    /// `conduit load merge` of their results sums them exactly, and its histogram equals,
    /// bucket for bucket, the instances' interval logs added up by an independent reader.
    @Test func segmentsStartedTogetherAddUpToTheWholeTest() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet"])
        let port = try #require(server.listeningPort())
        // Far enough ahead for three processes to start and connect, even under a sanitizer.
        let startAt = Date().timeIntervalSince1970 + 5
        let files = (0..<3).map { FileManager.default.temporaryDirectory.appendingPathComponent("segment-\($0)-\(UUID()).json") }
        let logs = files.map { $0.deletingPathExtension().appendingPathExtension("hlog") }
        let merged = FileManager.default.temporaryDirectory.appendingPathComponent("merged-\(UUID()).json")
        let page = merged.deletingPathExtension().appendingPathExtension("html")
        let screenshot = merged.deletingPathExtension().appendingPathExtension("png")
        defer { for file in files + logs + [merged, page, screenshot] { try? FileManager.default.removeItem(at: file) } }
        let instances = try (0..<3).map { index in
            try ChildProcess([
                "load", "--target", "127.0.0.1:\(port)", "--workload", "echo", "--connections", "11",
                "--segment", "\(index)/3", "--start-at", String(startAt), "--duration", "2s", "--quiet",
                "--json", files[index].path, "--hlog", logs[index].path,
            ])
        }
        let finished = instances.map { $0.finish(seconds: Double(HangGuard.seconds)) }
        for (index, run) in finished.enumerated() {
            #expect(run.status == 0, "segment \(index): \(run.stderr)")
            #expect(run.stdout.contains("segment \(index)/3 of the test; started +"), "\(run.stdout)")
        }
        let reports = try files.map { try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: $0)) as? [String: Any]) }
        #expect(reports.map { $0["connections"] as? Int } == [4, 4, 3])
        #expect(reports.map { $0["connections_up"] as? Int } == [4, 4, 3])
        #expect(reports.map { $0["segment"] as? String } == ["0/3", "1/3", "2/3"])
        for report in reports {
            #expect(report["error_count"] as? Int == 0)
            #expect((report["requests"] as? Int ?? 0) > 0)
            #expect(abs((report["start_at"] as? Double ?? 0) - startAt) < 1e-3)
            let offset = try #require(report["start_offset_ms"] as? Double)
            // Late only by the wake-up after the instant (or early never): a generous bound.
            #expect(offset >= 0 && offset < 2_000, "started \(offset) ms from --start-at")
        }
        server.signal(SIGTERM)
        let stopped = server.finish(seconds: Double(HangGuard.seconds))
        #expect(stopped.stderr.contains(" 11 accepted"), "\(stopped.stderr)")

        let merging = try runConduit(["load", "merge"] + files.map(\.path) + ["--json", merged.path, "--html", page.path])
        #expect(merging.status == 0, "\(merging.stderr)")
        #expect(merging.stdout.contains("merged: 3 results"))
        #expect(merging.stdout.contains("3 instances started, from --start-at "), "\(merging.stdout)")
        for index in 0..<3 { #expect(merging.stdout.contains("segment \(index)/3 +"), "\(merging.stdout)") }
        let whole = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: merged)) as? [String: Any])
        func sum(_ key: String) -> Int { reports.reduce(0) { $0 + ($1[key] as? Int ?? 0) } }
        #expect(whole["connections"] as? Int == 11)
        #expect(whole["connections_up"] as? Int == 11)
        #expect(whole["requests"] as? Int == sum("requests"))
        #expect(whole["sent"] as? Int == sum("sent"))
        #expect(whole["error_count"] as? Int == 0)
        let latency = try #require(whole["latency_ns"] as? [String: Any])
        #expect(latency["count"] as? Int == sum("requests"))

        try checkRenderedReport(page, screenshot: screenshot)

        // The interval logs alone merge to the same latencies.
        let fromLogs = try runConduit(["load", "merge"] + logs.map(\.path))
        #expect(fromLogs.status == 0, "\(fromLogs.stderr)")
        // Only what the logs hold: no target, workload, mode or connections invented.
        #expect(fromLogs.stdout.hasPrefix("interval logs: "), "\(fromLogs.stdout)")
        for invented in ["workload:", "mode:", "connections:", "target:"] {
            #expect(!fromLogs.stdout.contains(invented), "\(fromLogs.stdout)")
        }
        #expect(!fromLogs.stderr.contains("note:"), "\(fromLogs.stderr)")
        let latencyLine = merging.stdout.split(separator: "\n").first { $0.hasPrefix("  p50 ") }
        #expect(latencyLine != nil && fromLogs.stdout.contains(latencyLine!), "\(fromLogs.stdout)")

        let mergedHistogram = try #require(whole["latency_histogram"] as? String)
        let reader = try python("hlog_merge.py", [mergedHistogram] + logs.map(\.path)).finish(seconds: Double(HangGuard.seconds))
        if reader.status == 3 && ProcessInfo.processInfo.environment["CONDUIT_REQUIRE_HDRH"] == nil {
            FileHandleOutputForTests.note("hdrhistogram (PyPI) is not installed: the .hlog files were not checked against it")
            return
        }
        #expect(reader.status == 0, "\(reader.stderr)")
        let independent = try #require(try JSONSerialization.jsonObject(with: Data(reader.stdout.utf8)) as? [String: Any])
        #expect(independent["count"] as? Int == sum("requests"))
        #expect(independent["merged_count"] as? Int == sum("requests"))
        // Bucket for bucket, the merge is the sum the independent reader makes of the logs.
        #expect(independent["differing_buckets"] as? Int == 0, "\(reader.stdout)")
    }

    /// The merged report, rendered by headless Chromium: four charts, nothing fetched,
    /// and the screenshot shows the lines (blue: the merged figures and the percentile
    /// spectrum; red and green: two of the instances). A legend alone is 30 pixels.
    private func checkRenderedReport(_ page: URL, screenshot: URL) throws {
        let render = try python("screenshot_check.py", [page.path, screenshot.path]).finish(seconds: Double(HangGuard.seconds))
        if render.status == 3 && ProcessInfo.processInfo.environment["CONDUIT_REQUIRE_CHROMIUM"] == nil {
            FileHandleOutputForTests.note("chromium or Pillow is not installed: the HTML report was not rendered")
            return
        }
        #expect(render.status == 0, "\(render.stderr)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(render.stdout.utf8)) as? [String: Any])
        #expect(seen["charts"] as? Int == 4)
        #expect(seen["external"] as? [String] == [])
        let pixels = try #require(seen["pixels"] as? [String: Int])
        #expect(pixels["blue", default: 0] > 600, "\(pixels)")
        #expect(pixels["red", default: 0] > 100, "\(pixels)")
        #expect(pixels["green", default: 0] > 100, "\(pixels)")
    }

    @Test func mergeSaysWhatIsWrongWithItsFiles() throws {
        let notJSON = FileManager.default.temporaryDirectory.appendingPathComponent("not-\(UUID()).json")
        try Data("{\"a\": 1}".utf8).write(to: notJSON)
        defer { try? FileManager.default.removeItem(at: notJSON) }
        for (arguments, status, message) in [
            ([String](), Int32(64), "Missing expected argument"),
            (["/nonexistent/part.json"], 1, "cannot read /nonexistent/part.json: No such file or directory"),
            ([notJSON.path, notJSON.path], 64, "is given twice"),
            ([notJSON.path], 1, "is not a conduit load --json file (nor an interval log): no \"target\""),
        ] {
            let result = try runConduit(["load", "merge"] + arguments)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    /// A segment and a run of its own (against another server) are not parts of one
    /// test: refused, naming why, unless --mixed, which merges them with a note.
    @Test func resultsOfDifferentTestsAreRefusedUnlessMixed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mixed-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let segment = directory.appendingPathComponent("segment.json").path
        let single = directory.appendingPathComponent("single.json").path
        for arguments in [["--segment", "0/2", "--json", segment], ["--json", single]] {
            let run = try runConduit(["load", "--duration", "300ms", "--connections", "4", "--quiet"] + arguments)
            #expect(run.status == 0, "\(run.stderr)")
        }
        let refused = try runConduit(["load", "merge", segment, single])
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("these are not parts of one test: they loaded different targets"), "\(refused.stderr)")
        #expect(refused.stderr.contains("\(single) is a run of its own, not a segment of the split the others are"), "\(refused.stderr)")
        #expect(refused.stderr.contains("add --mixed to merge them anyway"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("requests:"), "\(refused.stdout)")
        let mixed = try runConduit(["load", "merge", segment, single, "--mixed"])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        #expect(mixed.stderr.contains("note: merged with --mixed: they loaded different targets"), "\(mixed.stderr)")
        #expect(mixed.stdout.contains("merged: 2 results"), "\(mixed.stdout)")
    }

    @Test func badSegmentsAndStartTimesAreUsageErrors() throws {
        for (arguments, message) in [
            (["--segment", "3/3"], "--segment takes I/N with 0 <= I < N"),
            (["--segment", "1"], "--segment takes I/N"),
            (["--segment", "5/8", "--connections", "4"], "--segment 5/8 gets no connections of --connections 4"),
            (["--start-at", "noon"], "--start-at takes Unix seconds"),
            (["--start-at", "2099-01-01T00:00:00Z"], "is more than a day away"),
            (["--start-at", "2020-01-01T00:00:00Z"], "is more than a day ago"),
        ] {
            let result = try runConduit(["load"] + arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
