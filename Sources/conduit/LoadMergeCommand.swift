import ArgumentParser
import ConduitLoad
import Foundation

/// `conduit load merge`: one report from the `--json` files of several instances.
struct LoadMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the --json results of several load instances into one report.",
        discussion: """
            Reads the --json files that instances of one test wrote (for example the segments \
            of 'conduit load --segment I/N --start-at TIME' on several hosts) and prints the \
            report of the whole, as one run would: histograms added bucket by bucket (so the \
            percentiles are exact, not averaged), counts and errors summed, the per-second \
            series lined up by wall-clock time. --json, --hgrm and --hlog write the merged \
            result. Exits 1 if the parts had any error.
            """)

    @Argument(help: ArgumentHelp("The --json files of the instances.", valueName: "file"))
    var files: [String]
    @OptionGroup var output: LoadOutputFiles

    func validate() throws {
        if files.isEmpty { throw ValidationError("give the --json files to merge") }
    }

    func run() throws {
        try output.checkWritable()
        var parts: [LoadResult] = []
        for file in files {
            do {
                parts.append(try LoadReport.result(fromJSON: Data(contentsOf: URL(fileURLWithPath: file))))
            } catch {
                throw fail("cannot read \(file): \(error)")
            }
        }
        let merged = LoadResult.merging(parts)
        say(LoadReport.text(merged))
        say("merged: \(parts.count) result\(parts.count == 1 ? "" : "s")")
        try output.write(merged)
        if merged.stats.errorCount > 0 { throw ExitCode.failure }
    }
}
