import ArgumentParser
import ConduitLoad
import Foundation
import Glibc

/// The files a load result is written to, by `conduit load` and `conduit load merge`.
struct LoadOutputFiles: ParsableArguments {
    @Option(help: "Write the summary, the per-second series and the histograms as JSON to this file (what 'conduit load merge' reads).")
    var json: String?
    @Option(help: "Write the latency percentile distribution (HdrHistogram format, ms) to this file.") var hgrm: String?
    @Option(help: "Write an HdrHistogram interval log of the latencies (.hlog: one compressed histogram per second, ns) to this file.")
    var hlog: String?
    @Option(help: "Write a self-contained HTML report (inline SVG charts: latency by percentile, requests/s, p99 and errors over time) to this file.")
    var html: String?

    /// Fails with one line naming the first file that cannot be written, before any work.
    func checkWritable() throws {
        // One call per file: a loop over (path, name) tuples here crashed the release
        // build of Swift 6.3.1 ("Found outside of lifetime use").
        try Self.checkWritable(json, option: "--json")
        try Self.checkWritable(hgrm, option: "--hgrm")
        try Self.checkWritable(hlog, option: "--hlog")
        try Self.checkWritable(html, option: "--html")
    }

    /// Fails with one line naming the file unless `path` can be written, so that a long
    /// run is not lost to a mistyped path at its end. Creates nothing and changes
    /// nothing: a file made for the check is removed again, an existing one is opened
    /// without truncation.
    static func checkWritable(_ path: String?, option: String) throws {
        guard let path else { return }
        let existed = access(path, F_OK) == 0
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw fail("cannot write the \(option) file \(path): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        if !existed { unlink(path) }
    }

    /// Writes every file asked for; one that fails does not stop the others, and each
    /// failure is named (option, path, reason) before the run fails.
    func write(_ result: LoadResult) throws {
        var failures: [String] = []
        Self.write(json, option: "--json", failures: &failures) { try LoadReport.json(result).write(to: $0) }
        Self.write(hgrm, option: "--hgrm", failures: &failures) { try Data(LoadReport.hgrm(result).utf8).write(to: $0) }
        Self.write(hlog, option: "--hlog", failures: &failures) { try Data(LoadReport.hlog(result).utf8).write(to: $0) }
        Self.write(html, option: "--html", failures: &failures) { try Data(HTMLReport.page(result).utf8).write(to: $0) }
        if !failures.isEmpty { throw fail(failures.joined(separator: "; ")) }
    }

    private static func write(
        _ path: String?, option: String, failures: inout [String], _ body: (URL) throws -> Void
    ) {
        guard let path else { return }
        do {
            try body(URL(fileURLWithPath: path))
        } catch {
            let reason = LoadMergeCommand.errno(of: error).map { String(cString: strerror($0)) } ?? error.localizedDescription
            failures.append("cannot write the \(option) file \(path): \(reason)")
        }
    }
}
