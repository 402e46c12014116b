import Foundation
import Histogram

/// Turns a `LoadResult` into what the user reads: the text report, the JSON summary
/// (`--json`) and the HdrHistogram percentile distribution (`--hgrm`).
public enum LoadReport {
    /// The percentiles every report shows.
    package static let percentiles: [(label: String, value: Double)] = [
        ("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9), ("p99.99", 99.99),
    ]

    /// The text report printed at the end of a run.
    public static func text(_ result: LoadResult) -> String {
        let stats = result.stats
        var lines: [String] = []
        let mode = result.rate.map { "open loop at \(grouped(saturating($0))) requests/s (in-flight cap \(result.pipeline) per connection)" }
            ?? "closed loop, \(result.pipeline) in flight per connection"
        let what = result.scenario.map { "scenario: \($0)" }
            ?? "workload: \(result.workload.rawValue)  compare: \(result.compare.rawValue)"
        lines.append("target: \(result.embedded ? "embedded server at " : "")\(result.target)  \(what)  backend: \(result.backend)")
        lines.append("mode: \(mode)")
        if let start = startLine(result) { lines.append(start) }
        if result.requestsPerConnection == nil {
            lines.append(
                "connections: \(grouped(stats.connectionsUp)) of \(grouped(result.connections)) established in \(duration(stats.connectNanoseconds)), \(grouped(stats.connectionsAnswered)) answered")
        } else {
            lines.append(
                "connections: \(grouped(result.connections)) at a time, \(grouped(stats.connectionsUp)) established in all")
        }
        if let perConnection = result.requestsPerConnection {
            lines.append(
                "connection churn: \(grouped(perConnection)) answer\(perConnection == 1 ? "" : "s") per connection, \(grouped(stats.connectionsRecycled)) closed and reopened = \(grouped(saturating(result.connectionsPerSecond))) connections/s")
            lines.append("connect latency:")
            lines.append(percentileLine(stats.connectLatency))
        }
        if let tls = stats.tls {
            let share = tls.handshakes > 0 ? Double(tls.resumed) * 100 / Double(tls.handshakes) : 0
            let rate = result.requestsPerConnection != nil
                ? " = \(grouped(saturating(result.tlsHandshakesPerSecond))) handshakes/s" : ""
            lines.append(
                "TLS: \(grouped(tls.handshakes)) handshakes\(rate), \(grouped(tls.resumed)) resumed (\(String(format: "%.1f", share)) %); handshake latency:")
            lines.append(percentileLine(tls.latency))
        }
        lines.append(
            "requests: \(grouped(stats.requests)) correct responses in \(String(format: "%.2f", result.elapsedSeconds)) s = \(grouped(saturating(result.requestsPerSecond))) requests/s (\(grouped(stats.sent)) sent)")
        let corrected = result.rate != nil
        lines.append(corrected ? "latency (from intended send time, corrected for coordinated omission):" : "latency:")
        lines.append(percentileLine(stats.latency))
        if corrected {
            lines.append("service time (from actual send time, uncorrected):")
            lines.append(percentileLine(stats.serviceTime))
        }
        if let thresholds = result.thresholds {
            lines.append("thresholds: \(thresholds.count { $0.held }) of \(thresholds.count) held")
            for outcome in thresholds {
                lines.append("  \(outcome.held ? "held   " : "CROSSED") \(outcome.threshold)  (\(outcome.shown))")
            }
        }
        if stats.errors.isEmpty {
            lines.append("errors: 0")
        } else {
            lines.append("errors: \(grouped(stats.errorCount))")
            for (kind, count) in stats.errors.sorted(by: { $0.value > $1.value }) {
                lines.append("  \(grouped(count))  \(kind)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The report of merged interval logs: only what such logs hold (values and their
    /// latencies, the time they span, when they started), nothing a run's report would
    /// have to invent (target, workload, mode, connections).
    public static func intervalLogText(_ result: LoadResult, files: [String]) -> String {
        let stats = result.stats
        var lines = ["interval logs: \(files.joined(separator: ", "))"]
        let started = result.startedAt.map { ", from \(WallClock.format($0))" } ?? ""
        lines.append(
            "values: \(grouped(stats.requests)) over \(String(format: "%.2f", result.elapsedSeconds)) s\(started) = \(grouped(saturating(result.requestsPerSecond)))/s")
        lines.append("latency:")
        lines.append(percentileLine(stats.latency))
        return lines.joined(separator: "\n")
    }

    /// The segment and the synchronized start, when there were any.
    static func startLine(_ result: LoadResult) -> String? {
        var parts: [String] = []
        if let segment = result.segment { parts.append("segment \(segment) of the test") }
        if let instances = result.instances {
            // Merged: each instance's own start, so a late one shows.
            let offsets = instances.map { instance in
                "\(instance.label) \(instance.startOffset.map(signedDuration) ?? "(no --start-at)")"
            }
            let startAt = result.startAt.map { " --start-at \(WallClock.format($0))" } ?? ""
            return "\(instances.count) instance\(instances.count == 1 ? "" : "s") started, from\(startAt): "
                + offsets.joined(separator: ", ")
        }
        if let startAt = result.startAt, let offset = result.startOffset {
            parts.append("started \(signedDuration(offset)) from --start-at \(WallClock.format(startAt))")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// `+1.25 ms` (late) or `-310 µs` (early), from seconds.
    static func signedDuration(_ seconds: Double) -> String {
        let nanoseconds = (abs(seconds) * 1e9).rounded()
        return (seconds < 0 ? "-" : "+") + duration(nanoseconds < 1.8e19 ? UInt64(nanoseconds) : .max)
    }

    /// `value` rounded to an integer, held within `Int`'s range (infinity and NaN, from
    /// a division by an almost-zero duration, say, become the largest integer and 0):
    /// for what is only shown.
    package static func saturating(_ value: Double) -> Int {
        guard value.isFinite else { return value.isNaN ? 0 : value > 0 ? .max : .min }
        let rounded = value.rounded()
        if rounded >= 9.2e18 { return .max }
        if rounded <= -9.2e18 { return .min }
        return Int(rounded)
    }

    static func percentileLine(_ histogram: Histogram<UInt64>) -> String {
        guard histogram.totalCount > 0 else { return "  (no responses)" }
        var parts = percentiles.map { "\($0.label) \(duration(histogram.valueAtPercentile($0.value)))" }
        parts.append("max \(duration(histogram.max))")
        return "  " + parts.joined(separator: "  ")
    }

    /// `nanoseconds` with a unit that keeps 3 significant digits (`812 µs`, `1.25 ms`).
    package static func duration(_ nanoseconds: UInt64) -> String {
        let value = Double(nanoseconds)
        let (scaled, unit): (Double, String) =
            value < 1e3 ? (value, "ns") : value < 1e6 ? (value / 1e3, "µs") : value < 1e9 ? (value / 1e6, "ms") : (value / 1e9, "s")
        let digits = scaled < 10 ? 2 : scaled < 100 ? 1 : 0
        return String(format: "%.\(digits)f %@", scaled, unit)
    }

    /// `1234567` as `1,234,567`.
    package static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// One progress line for stderr: the last second's requests, the p99 of the whole
    /// run so far (of the last second's, when only that is known: worker processes
    /// report intervals), and the errors so far.
    package static func progressLine(_ interval: IntervalStats, totals: LoadStats, connections: Int) -> String {
        let nanoseconds = totals.latency.totalCount > 0 ? totals.latency.valueAtPercentile(99) : interval.p99Nanoseconds
        let p99 = nanoseconds > 0 ? duration(nanoseconds) : "-"
        return "[\(interval.second)s] connections \(grouped(interval.connectionsUp))/\(grouped(connections))  \(grouped(interval.requests)) req/s  p99 so far \(p99)  errors \(grouped(totals.errorCount))"
    }

    /// The JSON summary written by `--json` (fields documented in the README).
    public static func json(_ result: LoadResult) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(LoadSummary(result))
    }

    /// The result a `--json` file describes, for `conduit load merge`; fails for JSON
    /// without the histograms (written before they were added, or by something else).
    public static func result(fromJSON data: Data) throws -> LoadResult {
        let summary = try JSONDecoder().decode(LoadSummary.self, from: data)
        guard let latency = summary.latency_histogram, let serviceTime = summary.service_time_histogram else {
            throw HistogramCodec.Malformed(description: "no latency_histogram: not written by conduit load --json")
        }
        try summary.check()
        var stats = LoadStats()
        stats.requests = summary.requests
        stats.sent = summary.sent
        stats.errors = summary.errors
        stats.latency = try histogram(latency, "latency_histogram")
        stats.serviceTime = try histogram(serviceTime, "service_time_histogram")
        stats.connectionsUp = summary.connections_up
        stats.connectionsAnswered = summary.connections_answered ?? 0
        stats.connectNanoseconds = UInt64(summary.connect_ms * 1e6)
        var intervals = summary.interval_histograms ?? []
        for (index, text) in intervals.enumerated() where !text.isEmpty {
            // Checked here, one at a time; kept compressed, as read.
            _ = try histogram(text, "interval_histograms[\(index)]")
            intervals[index] = text
        }
        var result = LoadResult(
            stats: stats, series: summary.series, elapsedSeconds: summary.duration_s, target: summary.target,
            embedded: summary.embedded, connections: summary.connections,
            workload: Workload(rawValue: summary.workload) ?? .search,
            compare: ResponseComparison(rawValue: summary.compare) ?? .exact, rate: summary.rate,
            pipeline: summary.pipeline, backend: summary.backend, clientLoops: nil, serverLoops: nil,
            segment: summary.segment.flatMap(LoadSegment.init), startAt: summary.start_at,
            startedAt: summary.started_at, intervalLatencies: intervals)
        result.intervalSeconds = summary.interval_seconds
        return result
    }

    /// The histogram in `text`, or an error naming `field`.
    private static func histogram(_ text: String, _ field: String) throws(LoadFileError) -> Histogram<UInt64> {
        do {
            return try HistogramCodec.decode(base64: text)
        } catch {
            throw LoadFileError(field: field, problem: error.description)
        }
    }

    /// What an interval log (`--hlog`, or any HdrHistogram log of nanoseconds) says as a
    /// result: its latencies, each interval as a second of the series (by its start),
    /// every recorded value a correct response. It knows nothing of connections or
    /// errors. The histograms are decoded one at a time and kept compressed, so a log of
    /// thousands of them costs what the file does.
    public static func result(fromIntervalLog text: String, name: String) throws -> LoadResult {
        let log = try IntervalLog.entries(text)
        guard log.intervals.count <= LoadFileChecks.entriesLimit else {
            throw LoadFileError(field: "intervals", problem: "\(log.intervals.count) (at most \(LoadFileChecks.entriesLimit))")
        }
        try LoadFileChecks.instant(log.startTime > 0 ? log.startTime : nil, "StartTime")
        var stats = LoadStats()
        var series: [IntervalStats] = []
        var seconds: [Int] = []
        var end = 0.0
        for (index, interval) in log.intervals.enumerated() {
            let line = "interval \(index + 1)"
            try LoadFileChecks.number(interval.start, in: 0...LoadFileChecks.secondsLimit, "\(line) start")
            try LoadFileChecks.number(interval.length, in: 0...LoadFileChecks.secondsLimit, "\(line) length")
            let histogram = try Self.histogram(interval.histogram, line)
            stats.latency.add(histogram)
            guard stats.latency.totalCount <= UInt64(LoadFileChecks.countLimit) else {
                throw LoadFileError(field: line, problem: "more than \(LoadFileChecks.countLimit) values in all")
            }
            let second = Int(interval.start.rounded(.down))
            let count = Int(histogram.totalCount)
            series.append(IntervalStats(
                second: second + 1, requests: count, errors: 0, connectionsUp: 0,
                p99Nanoseconds: count > 0 ? histogram.valueAtPercentile(99) : 0))
            seconds.append(second)
            end = max(end, interval.start + interval.length)
        }
        stats.serviceTime = stats.latency
        stats.requests = Int(stats.latency.totalCount)
        stats.sent = stats.requests
        var result = LoadResult(
            stats: stats, series: series, elapsedSeconds: end, target: "interval log \(name)", embedded: false,
            connections: 0, workload: .echo, compare: .exact, rate: nil, pipeline: 1, backend: "-",
            clientLoops: nil, serverLoops: nil, segment: nil, startAt: nil,
            startedAt: log.startTime > 0 ? log.startTime : nil,
            intervalLatencies: log.intervals.map(\.histogram))
        result.intervalSeconds = seconds == Array(seconds.indices) ? nil : seconds
        return result
    }

    /// The interval log `--hlog` writes: one histogram per second of the run from its
    /// start, and the rest of it (the last part-second and the drain) as the last.
    public static func hlog(_ result: LoadResult) -> String {
        let intervals = result.intervalLatencies.enumerated().compactMap { index, text -> IntervalLog.Interval? in
            guard let histogram = try? HistogramCodec.decode(base64: text) else { return nil }
            let second = result.intervalSeconds?[index] ?? index
            let last = index == result.intervalLatencies.count - 1
            let length = last ? max(result.elapsedSeconds - Double(second), 0.001) : 1
            return IntervalLog.Interval(start: Double(second), length: length, histogram: histogram)
        }
        return IntervalLog.text(startTime: result.startedAt ?? WallClock.now(), intervals: intervals)
    }

    /// The percentile distribution in HdrHistogram's text format, in milliseconds.
    public static func hgrm(_ result: LoadResult) -> String {
        var text = ""
        result.stats.latency.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1e6)
        return text
    }
}

/// The JSON summary of a run.
struct LoadSummary: Codable {
    struct Percentiles: Codable {
        var p50: UInt64, p90: UInt64, p99: UInt64, p99_9: UInt64, p99_99: UInt64, max: UInt64, mean: Double, count: UInt64

        init(_ histogram: Histogram<UInt64>) {
            let empty = histogram.totalCount == 0
            func at(_ p: Double) -> UInt64 { empty ? 0 : histogram.valueAtPercentile(p) }
            p50 = at(50); p90 = at(90); p99 = at(99); p99_9 = at(99.9); p99_99 = at(99.99)
            max = empty ? 0 : histogram.max
            mean = empty ? 0 : histogram.mean
            count = histogram.totalCount
        }
    }

    var target: String
    var embedded: Bool
    var workload: String
    var compare: String
    var backend: String
    var connections: Int
    var connections_up: Int
    /// Connections with at least one correct answer (absent in files written before it).
    var connections_answered: Int?
    var connect_ms: Double
    var pipeline: Int
    var rate: Double?
    var duration_s: Double
    var requests: Int
    var sent: Int
    var requests_per_second: Double
    var error_count: Int
    var errors: [String: Int]
    var latency_ns: Percentiles
    var service_time_ns: Percentiles
    var series: [IntervalStats]
    var segment: String?
    var start_at: Double?
    var started_at: Double?
    var start_offset_ms: Double?
    /// The whole histograms, compressed HdrHistogram in base64: what makes
    /// `conduit load merge` exact.
    var latency_histogram: String?
    var service_time_histogram: String?
    /// Each second's latencies, the same way (the last: the rest of the run).
    var interval_histograms: [String]?
    /// Which second (0-based) each of `interval_histograms` is, when not 0, 1, 2, …
    /// (a merge of instances that ran apart).
    var interval_seconds: [Int]?
    /// The scenario's summary, when the run had one.
    var scenario: String?
    /// Connection churn: answers per connection, connections closed and reopened, and
    /// the connect latency; nil when connections were kept.
    var requests_per_connection: Int?
    var connections_recycled: Int?
    var connect_latency_ns: Percentiles?
    /// TLS handshakes: count, resumed, per second (over the sending period), latency.
    var tls: TLSReport?

    struct TLSReport: Codable {
        var handshakes: Int, resumed: Int, handshakes_per_second: Double, handshake_latency_ns: Percentiles
    }
    /// Each threshold with whether it held and what was measured.
    var thresholds: [ThresholdOutcome]?

    init(_ result: LoadResult) {
        target = result.target
        embedded = result.embedded
        workload = result.workload.rawValue
        compare = result.compare.rawValue
        backend = result.backend
        connections = result.connections
        connections_up = result.stats.connectionsUp
        connections_answered = result.stats.connectionsAnswered
        connect_ms = Double(result.stats.connectNanoseconds) / 1e6
        pipeline = result.pipeline
        rate = result.rate
        duration_s = result.elapsedSeconds
        requests = result.stats.requests
        sent = result.stats.sent
        requests_per_second = result.requestsPerSecond
        error_count = result.stats.errorCount
        errors = result.stats.errors
        latency_ns = Percentiles(result.stats.latency)
        service_time_ns = Percentiles(result.stats.serviceTime)
        series = result.series
        segment = result.segment?.description
        start_at = result.startAt
        started_at = result.startedAt
        start_offset_ms = result.startOffset.map { $0 * 1e3 }
        latency_histogram = HistogramCodec.base64(result.stats.latency)
        service_time_histogram = HistogramCodec.base64(result.stats.serviceTime)
        interval_histograms = result.intervalLatencies
        interval_seconds = result.intervalSeconds
        scenario = result.scenario
        thresholds = result.thresholds
        requests_per_connection = result.requestsPerConnection
        if result.requestsPerConnection != nil {
            connections_recycled = result.stats.connectionsRecycled
            connect_latency_ns = Percentiles(result.stats.connectLatency)
        }
        if let handshakes = result.stats.tls {
            tls = TLSReport(
                handshakes: handshakes.handshakes, resumed: handshakes.resumed,
                handshakes_per_second: result.tlsHandshakesPerSecond, handshake_latency_ns: Percentiles(handshakes.latency))
        }
    }
}
