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

    /// Writes every file asked for.
    func write(_ result: LoadResult) throws {
        do {
            if let json { try LoadReport.json(result).write(to: URL(fileURLWithPath: json)) }
            if let hgrm { try LoadReport.hgrm(result).write(toFile: hgrm, atomically: true, encoding: .utf8) }
            if let hlog { try LoadReport.hlog(result).write(toFile: hlog, atomically: true, encoding: .utf8) }
            if let html { try HTMLReport.page(result).write(toFile: html, atomically: true, encoding: .utf8) }
        } catch {
            throw fail("cannot write output: \(error.localizedDescription)")
        }
    }
}
