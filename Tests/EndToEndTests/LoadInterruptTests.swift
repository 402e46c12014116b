import Foundation
import Testing

/// Temporary output files for one run, removed afterwards.
struct OutputFiles {
    let json = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-load-\(UUID()).json")
    let hgrm = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-load-\(UUID()).hgrm")
    func remove() {
        try? FileManager.default.removeItem(at: json)
        try? FileManager.default.removeItem(at: hgrm)
    }
}

@Suite("conduit load: Ctrl-C and output files")
struct LoadInterruptTests {
    /// Like wrk: the first Ctrl-C ends the run, which is reported and written as if it
    /// had been the whole run.
    @Test(arguments: [1, 2])
    func ctrlCStopsTheRunAndStillReports(processes: Int) throws {
        let files = OutputFiles()
        defer { files.remove() }
        let launched = Date()
        let load = try ChildProcess([
            "load", "--duration", "60s", "--connections", "6", "--processes", String(processes),
            "--json", files.json.path, "--hgrm", files.hgrm.path,
        ])
        #expect(load.waitForError(containing: "[1s] connections 6/6", seconds: 20), "\(load.stderr)")
        let interrupted = Date()
        load.signal(SIGINT)
        let result = load.finish(seconds: 20)
        #expect(Date().timeIntervalSince(interrupted) < 10)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("interrupted"), "\(result.stderr)")
        #expect(result.stdout.contains("connections: 6 of 6 established"), "\(result.stdout)")
        #expect(result.stdout.contains("errors: 0"), "\(result.stdout)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: files.json)) as? [String: Any])
        #expect((object["requests"] as? Int ?? 0) > 0)
        #expect(object["requests"] as? Int == object["sent"] as? Int)
        #expect(object["error_count"] as? Int == 0)
        // The run so far: at least the second its progress line reported, and no longer
        // than the process lived (not the 60 s asked for).
        let seconds = object["duration_s"] as? Double ?? 0
        let lived = Date().timeIntervalSince(launched)
        #expect(seconds >= 1 && seconds <= lived, "duration_s \(seconds) of a process that lived \(lived) s")
        #expect(try String(contentsOf: files.hgrm, encoding: .utf8).contains("Percentile"))
    }

    /// A path that cannot be written fails before the run, not after it.
    @Test(arguments: ["--json", "--hgrm"])
    func unwritableOutputFailsBeforeTheRun(option: String) throws {
        let path = "/nonexistent-\(UUID())/run.out"
        let started = Date()
        let result = try runConduit(["load", "--duration", "20s", "--connections", "2", option, path], seconds: 10)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(path))
        #expect(result.stderr.contains(option))
        #expect(result.stdout.isEmpty)
    }

    /// The check creates no file and changes no existing one: a run that stops at a
    /// later, unwritable path leaves the earlier one as it was.
    @Test func theWritableCheckLeavesNoTrace() throws {
        let files = OutputFiles()
        defer { files.remove() }
        let unwritable = "/nonexistent-\(UUID())/run.hgrm"
        let arguments = ["load", "--duration", "20s", "--connections", "2", "--json", files.json.path, "--hgrm", unwritable]
        let fresh = try runConduit(arguments, seconds: 10)
        #expect(fresh.status == 1)
        #expect(!FileManager.default.fileExists(atPath: files.json.path))
        try Data("old".utf8).write(to: files.json)
        let existing = try runConduit(arguments, seconds: 10)
        #expect(existing.status == 1)
        #expect(try String(contentsOf: files.json, encoding: .utf8) == "old")
    }
}
