import ArgumentParser
import ConduitLoad

/// `--threshold`: pass/fail criteria for CI, shared by `conduit load` and `conduit load
/// merge` (a split test is gated on its merged result).
struct LoadThresholdOptions: ParsableArguments {
    /// The exit status of a run that crossed a threshold (k6's).
    static let crossedStatus: Int32 = 99

    @Option(
        name: .customLong("threshold"), parsing: .singleValue,
        help: ArgumentHelp(
            """
            A pass/fail criterion, repeatable: p99<5ms, p99.9<=20ms, max<1s, errors==0, error_rate<0.1%, \
            rps>=50k, requests>1000, connect_p99<2ms, cps>=1000. Latencies in ns, us, ms (default) or s. \
            The report, --json and --html say which held; a crossed one exits 99. With a threshold on \
            errors or error_rate, errors alone no longer exit 1.
            """, valueName: "criterion"),
        transform: { text in
            do throws(ThresholdError) {
                return try Threshold(parsing: text)
            } catch {
                throw ValidationError(error.description)
            }
        })
    var thresholds: [Threshold] = []

    /// Says whether each threshold held, on `result`.
    func judge(_ result: inout LoadResult) { result.judge(by: thresholds) }

    /// Exits 99 if a threshold was crossed, else 1 if there were errors that no threshold
    /// judges; returns otherwise.
    func exit(for result: LoadResult) throws {
        if result.crossedAThreshold {
            let crossed = result.thresholds?.filter { !$0.held }.map { "\($0.threshold) (\($0.shown))" } ?? []
            FileHandleOutput.standardError("conduit: threshold crossed: \(crossed.joined(separator: ", "))")
            throw ExitCode(Self.crossedStatus)
        }
        if result.stats.errorCount > 0 && !thresholds.contains(where: \.isAboutErrors) { throw ExitCode.failure }
    }
}
