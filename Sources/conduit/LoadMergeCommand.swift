import ArgumentParser
import ConduitLoad
import Foundation
import Glibc

/// `conduit load merge`: one report from the `--json` files of several instances.
struct LoadMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the --json results (or .hlog interval logs) of several load instances into one report.",
        discussion: """
            Reads the --json files that instances of one test wrote (for example the segments \
            of 'conduit load --segment I/N --start-at TIME' on several hosts) and prints the \
            report of the whole, as one run would: histograms added bucket by bucket (so the \
            percentiles are exact, not averaged), counts and errors summed, the per-second \
            series lined up by wall-clock time, each instance's start shown. --json, --hgrm, \
            --hlog and --html write the merged result. Segments must be of one split and \
            each given once; a missing one is reported. Exits 1 if the parts had any error \
            (99 if a --threshold was crossed).

            Interval logs (--hlog files, or other HdrHistogram logs of nanoseconds) merge \
            the same way when given alone, instead of the --json files: the latencies and \
            their count only, as those logs hold nothing else.
            """)

    @Argument(help: ArgumentHelp("The --json files of the instances (or only their .hlog files).", valueName: "file"))
    var files: [String]
    @Flag(help: "Merge results that are not parts of one test (other targets or workloads, or a segment with a run of its own), noting what differs, instead of refusing them.")
    var mixed = false
    @OptionGroup var output: LoadOutputFiles
    @OptionGroup var gate: LoadThresholdOptions

    /// Most files one merge takes: their counts (each checked up to 2^50) then add up
    /// within 64 bits.
    static let fileLimit = 4096

    func validate() throws {
        if files.isEmpty { throw ValidationError("give the --json files to merge") }
        if files.count > Self.fileLimit { throw ValidationError("at most \(Self.fileLimit) files in one merge") }
        let paths = files.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        if let twice = paths.first(where: { path in paths.filter { $0 == path }.count > 1 }) {
            throw ValidationError("\(twice) is given twice: its counts would be added twice")
        }
    }

    /// Segments of one split, each once; says which are missing (the merge is then of
    /// part of the test). Parts of different tests (other targets or workloads, or
    /// segments with a run of its own) are refused, or with `mixed` merged with a note.
    static func checkParts(_ parts: [LoadResult], files: [String], mixed: Bool) throws {
        var differences: [String] = []
        let targets = Set(parts.map(\.target))
        if targets.count > 1 { differences.append("they loaded different targets (\(targets.sorted().joined(separator: ", ")))") }
        let workloads = Set(parts.map { $0.scenario ?? $0.workload.rawValue })
        if workloads.count > 1 { differences.append("they ran different workloads (\(workloads.sorted().joined(separator: ", ")))") }
        let unsplit = zip(files, parts).filter { $0.1.segment == nil }.map(\.0)
        if !unsplit.isEmpty && unsplit.count < parts.count {
            differences.append("\(unsplit.joined(separator: ", ")) \(unsplit.count == 1 ? "is a run" : "are runs") of its own, not a segment of the split the others are")
        }
        if !differences.isEmpty {
            if !mixed {
                throw fail("these are not parts of one test: \(differences.joined(separator: "; ")); add --mixed to merge them anyway")
            }
            FileHandleOutput.standardError("note: merged with --mixed: \(differences.joined(separator: "; "))")
        }
        let segments = parts.compactMap(\.segment)
        if let first = segments.first {
            if segments.contains(where: { $0.count != first.count }) {
                throw fail("these results are segments of different splits (\(Set(segments.map { "of \($0.count)" }).sorted().joined(separator: ", ")))")
            }
            var seen = Set<Int>()
            for segment in segments where !seen.insert(segment.index).inserted {
                throw fail("segment \(segment.index)/\(first.count) is given twice")
            }
            // Counted, not listed: a split may have a million segments.
            let missing = first.count - seen.count
            if missing > 0 {
                var named: [String] = []
                var index = 0
                while named.count < 10 && index < first.count {
                    if !seen.contains(index) { named.append("\(index)/\(first.count)") }
                    index += 1
                }
                let more = missing > named.count ? ", …" : ""
                FileHandleOutput.standardError(
                    "note: \(missing) of \(first.count) segments missing (\(named.joined(separator: ", "))\(more)): this is part of the test")
            }
        }
    }

    func run() throws {
        try output.checkWritable()
        var parts: [LoadResult] = []
        var logs = 0
        for file in files {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
                throw fail("\(file) is a directory: give the --json files (or .hlog files) themselves")
            }
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw fail("cannot read \(file): \(String(cString: strerror(Self.errno(of: error) ?? EIO)))")
            }
            let isLog = data.starts(with: Array("#[".utf8))
            logs += isLog ? 1 : 0
            do {
                parts.append(
                    isLog
                        ? try LoadReport.result(fromIntervalLog: String(decoding: data, as: UTF8.self), name: file)
                        : try LoadReport.result(fromJSON: data))
            } catch let error as DecodingError {
                throw fail("\(file) is not a conduit load --json file (nor an interval log): \(Self.describe(error))")
            } catch {
                throw fail("\(file): \(error)")
            }
        }
        if logs > 0 && logs < parts.count {
            throw fail("give the --json files, or only the .hlog files: an instance's two files would count it twice")
        }
        // Interval logs hold latencies and nothing else: no target or workload to compare.
        if logs == 0 { try Self.checkParts(parts, files: files, mixed: mixed) }
        var merged = LoadResult.merging(parts)
        gate.judge(&merged)
        say(logs > 0 ? LoadReport.intervalLogText(merged, files: files) : LoadReport.text(merged))
        say("merged: \(parts.count) \(logs > 0 ? "interval log" : "result")\(parts.count == 1 ? "" : "s")"
            + (logs > 0 ? " (latencies only: the logs hold no connection or error counts)" : ""))
        try output.write(merged)
        try gate.exit(for: merged)
    }

    /// A decoding error in one line: what was missing or wrong, and where.
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context): return context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription
        case .keyNotFound(let key, _): return "no \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// The system error behind a failed read or write, when there is one.
    static func errno(of error: Error) -> Int32? {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let underlying, underlying.domain == NSPOSIXErrorDomain { return Int32(underlying.code) }
        switch (error as NSError).code {
        case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return ENOENT
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return EACCES
        case NSFileWriteOutOfSpaceError: return ENOSPC
        case NSFileWriteVolumeReadOnlyError: return EROFS
        default: return nil
        }
    }
}
