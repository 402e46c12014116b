import Foundation

/// A field of a result or interval-log file that cannot be right, named so that the
/// user can find it: `requests: -5 is negative`.
public struct LoadFileError: Error, CustomStringConvertible {
    /// The field, as the file spells it (`errors.reset`, `series[3].second`).
    public let field: String
    /// What is wrong with it.
    public let problem: String

    /// `field: problem`.
    public var description: String { "\(field): \(problem)" }
}

/// The bounds a file read back from disk must keep to (`conduit load merge`). A merge
/// input is someone else's file: every number is checked before it is converted, added
/// or used to size anything, so a hostile or damaged file is one clear line, never a
/// trap, a wrong total or gigabytes of memory.
///
/// The bounds are far beyond any real run and small enough that thousands of parts add
/// up without overflow.
package enum LoadFileChecks {
    /// Counts (requests, connections, errors of a kind, …): 0 to 2^50.
    static let countLimit = 1 << 50
    /// Durations and offsets in seconds: 0 to a year.
    static let secondsLimit = 366.0 * 86_400
    /// Wall-clock instants: from 2000 to 2200 (Unix seconds).
    static let earliestInstant = 946_684_800.0
    static let latestInstant = 7_258_118_400.0
    /// Entries of a per-second series or interval list: a year of seconds.
    static let entriesLimit = 366 * 86_400
    /// Segments of a split test.
    static let segmentsLimit = 1_000_000
    /// Requests per second asked for.
    static let rateLimit = 1e12
    /// Requests in flight per connection.
    static let pipelineLimit = 1_000_000
    /// Error kinds, and the length of a name.
    static let errorKindsLimit = 10_000
    static let textLimit = 4_096

    /// Throws unless `value` is a count (0 to 2^50).
    static func count(_ value: Int, _ field: String) throws(LoadFileError) {
        guard value >= 0 else { throw LoadFileError(field: field, problem: "\(value) is negative") }
        guard value <= countLimit else { throw LoadFileError(field: field, problem: "\(value) is above \(countLimit)") }
    }

    /// Throws unless `value` is a finite number in `range`.
    static func number(_ value: Double, in range: ClosedRange<Double>, _ field: String) throws(LoadFileError) {
        guard value.isFinite else { throw LoadFileError(field: field, problem: "\(value) is not a number") }
        guard range.contains(value) else {
            throw LoadFileError(field: field, problem: "\(value) is outside \(range.lowerBound) to \(range.upperBound)")
        }
    }

    /// Throws unless `value` is a Unix time between 2000 and 2200.
    static func instant(_ value: Double?, _ field: String) throws(LoadFileError) {
        guard let value else { return }
        guard value.isFinite, value >= earliestInstant, value <= latestInstant else {
            throw LoadFileError(field: field, problem: "\(value) is not a time between 2000 and 2200 (Unix seconds)")
        }
    }

    /// Throws unless `text` is of a sane length.
    static func text(_ text: String, _ field: String) throws(LoadFileError) {
        guard text.utf8.count <= textLimit else {
            throw LoadFileError(field: field, problem: "\(text.utf8.count) bytes long (at most \(textLimit))")
        }
    }

    /// Throws unless the series is one a run could have written.
    static func series(_ series: [IntervalStats], _ field: String = "series") throws(LoadFileError) {
        guard series.count <= entriesLimit else {
            throw LoadFileError(field: field, problem: "\(series.count) entries (at most \(entriesLimit))")
        }
        for (index, entry) in series.enumerated() {
            let here = "\(field)[\(index)]"
            guard entry.second >= 0, entry.second <= entriesLimit else {
                throw LoadFileError(field: "\(here).second", problem: "\(entry.second) is outside 0 to \(entriesLimit)")
            }
            try count(entry.requests, "\(here).requests")
            try count(entry.errors, "\(here).errors")
            try count(entry.connectionsUp, "\(here).connections_up")
        }
    }
}

extension LoadSummary {
    /// Throws the first field that no run could have written.
    func check() throws(LoadFileError) {
        try LoadFileChecks.text(target, "target")
        try LoadFileChecks.text(backend, "backend")
        try LoadFileChecks.text(workload, "workload")
        try LoadFileChecks.text(compare, "compare")
        try LoadFileChecks.count(connections, "connections")
        try LoadFileChecks.count(connections_up, "connections_up")
        if let connections_answered { try LoadFileChecks.count(connections_answered, "connections_answered") }
        try LoadFileChecks.count(requests, "requests")
        try LoadFileChecks.count(sent, "sent")
        try LoadFileChecks.number(connect_ms, in: 0...(LoadFileChecks.secondsLimit * 1e3), "connect_ms")
        try LoadFileChecks.number(duration_s, in: 0...LoadFileChecks.secondsLimit, "duration_s")
        guard pipeline >= 1, pipeline <= LoadFileChecks.pipelineLimit else {
            throw LoadFileError(field: "pipeline", problem: "\(pipeline) is outside 1 to \(LoadFileChecks.pipelineLimit)")
        }
        if let rate {
            try LoadFileChecks.number(rate, in: Double.leastNormalMagnitude...LoadFileChecks.rateLimit, "rate")
        }
        guard errors.count <= LoadFileChecks.errorKindsLimit else {
            throw LoadFileError(field: "errors", problem: "\(errors.count) kinds (at most \(LoadFileChecks.errorKindsLimit))")
        }
        for (kind, count) in errors {
            try LoadFileChecks.text(kind, "errors")
            try LoadFileChecks.count(count, "errors.\(kind)")
        }
        try LoadFileChecks.series(series)
        if let segment {
            guard let parsed = LoadSegment(segment), parsed.count <= LoadFileChecks.segmentsLimit else {
                throw LoadFileError(
                    field: "segment", problem: "\"\(segment.prefix(40))\" is not I/N with 0 ≤ I < N ≤ \(LoadFileChecks.segmentsLimit)")
            }
        }
        try LoadFileChecks.instant(start_at, "start_at")
        try LoadFileChecks.instant(started_at, "started_at")
        if let intervals = interval_histograms, intervals.count > LoadFileChecks.entriesLimit {
            throw LoadFileError(
                field: "interval_histograms", problem: "\(intervals.count) entries (at most \(LoadFileChecks.entriesLimit))")
        }
        if let seconds = interval_seconds {
            guard seconds.count == interval_histograms?.count ?? 0 else {
                throw LoadFileError(field: "interval_seconds", problem: "not one per interval histogram")
            }
            for (index, second) in seconds.enumerated() where second < 0 || second > LoadFileChecks.entriesLimit {
                throw LoadFileError(field: "interval_seconds[\(index)]", problem: "\(second) is outside 0 to \(LoadFileChecks.entriesLimit)")
            }
        }
    }
}
