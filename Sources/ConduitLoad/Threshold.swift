import Foundation
import Histogram

/// A pass/fail criterion on a run's result, as k6 has them: `p99<5ms`, `errors==0`,
/// `rps>=50000`. A run gated on thresholds exits with its own status when one is crossed
/// (`conduit load --threshold`, exit 99); the report, `--json` and `--html` say which
/// held.
///
/// Written `METRIC OPERATOR VALUE` with no spaces needed:
/// - latencies `p50`, `p90`, `p99`, `p99.9`, `p99.99`, `max`, `mean` (of the latency the
///   report shows: from the intended send time in open loop), and `connect_p99` (connect
///   latency, with connection churn); the value in `ns`, `us`, `ms` (the default) or `s`;
/// - counts `errors`, `requests`, and rates `rps` (correct answers per second) and
///   `cps` (connections per second), with an optional `k` or `m`;
/// - `error_rate`: errors per request sent, as a fraction (`0.001`) or a percentage (`0.1%`).
///
/// Operators: `<`, `<=`, `>`, `>=`, `==`, `!=`.
public struct Threshold: Sendable, Equatable, CustomStringConvertible {
    /// What a threshold measures.
    public enum Metric: String, Sendable, CaseIterable {
        case p50, p90, p99, p99_9 = "p99.9", p99_99 = "p99.99", max, mean
        case connectP99 = "connect_p99"
        case errors, requests, rps, cps
        case errorRate = "error_rate"

        /// A latency, in nanoseconds.
        var isLatency: Bool {
            switch self {
            case .p50, .p90, .p99, .p99_9, .p99_99, .max, .mean, .connectP99: true
            default: false
            }
        }
    }

    /// How the measured value is compared with the limit.
    public enum Comparison: String, Sendable, CaseIterable {
        case lessOrEqual = "<=", greaterOrEqual = ">=", equal = "==", notEqual = "!=", less = "<", greater = ">"

        func holds(_ measured: Double, _ limit: Double) -> Bool {
            switch self {
            case .less: measured < limit
            case .lessOrEqual: measured <= limit
            case .greater: measured > limit
            case .greaterOrEqual: measured >= limit
            case .equal: measured == limit
            case .notEqual: measured != limit
            }
        }
    }

    /// What it measures.
    public let metric: Metric
    /// The comparison.
    public let comparison: Comparison
    /// The limit: nanoseconds for latencies, a fraction for `error_rate`.
    public let limit: Double
    /// As written.
    public let description: String

    /// Parses `p99<5ms`, `errors==0`, `rps>=50k`, `error_rate<0.1%`.
    public init(parsing text: String) throws(ThresholdError) {
        let compact = text.filter { !$0.isWhitespace }
        // Two-character operators first, so `<=` is not read as `<` and `=…`.
        guard let (comparison, range) = Comparison.allCases.lazy.compactMap({ comparison in
            compact.range(of: comparison.rawValue).map { (comparison, $0) }
        }).first else {
            throw ThresholdError("'\(text)' has no comparison: write it as METRIC<VALUE, with <, <=, >, >=, == or !=")
        }
        let name = String(compact[..<range.lowerBound])
        guard let metric = Metric(rawValue: name) else {
            throw ThresholdError(
                "'\(text)': unknown metric '\(name)' (\(Metric.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let value = String(compact[range.upperBound...])
        guard let limit = Self.limit(value, for: metric) else {
            let form = metric.isLatency ? "a duration such as 5ms, 250us or 1.5s"
                : metric == .errorRate ? "a fraction (0.001) or a percentage (0.1%)" : "a number (k and m accepted)"
            throw ThresholdError("'\(text)': the limit of \(metric.rawValue) is \(form), not '\(value)'")
        }
        self.metric = metric
        self.comparison = comparison
        self.limit = limit
        description = compact
    }

    private static func limit(_ text: String, for metric: Metric) -> Double? {
        func number(_ digits: Substring) -> Double? { Double(digits).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } }
        if metric.isLatency {
            for (unit, scale) in [("ns", 1.0), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)] where text.hasSuffix(unit) {
                return number(text.dropLast(unit.count)).map { $0 * scale }
            }
            return number(text[...]).map { $0 * 1e6 }
        }
        if metric == .errorRate {
            return text.hasSuffix("%") ? number(text.dropLast()).map { $0 / 100 } : number(text[...])
        }
        if text.hasSuffix("k") { return number(text.dropLast()).map { $0 * 1e3 } }
        if text.hasSuffix("m") { return number(text.dropLast()).map { $0 * 1e6 } }
        return number(text[...])
    }

    /// The measured value in `result` (nanoseconds for latencies, 0 for a latency of a
    /// run that measured none).
    public func measure(_ result: LoadResult) -> Double {
        let stats = result.stats
        func at(_ percentile: Double, _ histogram: Histogram<UInt64>) -> Double {
            histogram.totalCount > 0 ? Double(histogram.valueAtPercentile(percentile)) : 0
        }
        switch metric {
        case .p50: return at(50, stats.latency)
        case .p90: return at(90, stats.latency)
        case .p99: return at(99, stats.latency)
        case .p99_9: return at(99.9, stats.latency)
        case .p99_99: return at(99.99, stats.latency)
        case .max: return stats.latency.totalCount > 0 ? Double(stats.latency.max) : 0
        case .mean: return stats.latency.totalCount > 0 ? stats.latency.mean : 0
        case .connectP99: return at(99, stats.connectLatency)
        case .errors: return Double(stats.errorCount)
        case .requests: return Double(stats.requests)
        case .rps: return result.requestsPerSecond
        case .cps: return result.connectionsPerSecond
        case .errorRate: return stats.sent > 0 ? Double(stats.errorCount) / Double(stats.sent) : (stats.errorCount > 0 ? 1 : 0)
        }
    }

    /// Whether it held for `result`, with what was measured.
    public func evaluate(_ result: LoadResult) -> ThresholdOutcome {
        let measured = measure(result)
        return ThresholdOutcome(threshold: description, held: comparison.holds(measured, limit), measured: measured,
                                shown: Self.show(measured, metric))
    }

    /// True if it judges errors: errors then do not fail a run by themselves.
    public var isAboutErrors: Bool { metric == .errors || metric == .errorRate }

    private static func show(_ value: Double, _ metric: Metric) -> String {
        if metric.isLatency { return "\(metric.rawValue) \(LoadReport.duration(UInt64(value.rounded())))" }
        if metric == .errorRate { return "error_rate \(String(format: "%.4g", value * 100))%" }
        return "\(metric.rawValue) \(LoadReport.grouped(Int(value.rounded())))"
    }
}

/// Whether one threshold held, for reports and `--json`.
public struct ThresholdOutcome: Codable, Sendable, Equatable {
    /// The threshold as written (`p99<5ms`).
    public var threshold: String
    /// True if it held.
    public var held: Bool
    /// The measured value (nanoseconds for latencies, a fraction for `error_rate`).
    public var measured: Double
    /// The measured value for people (`p99 1.23 ms`).
    public var shown: String
}

/// A threshold that cannot be read: what is wrong, for the person who wrote it.
public struct ThresholdError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
