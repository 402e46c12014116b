import Conduit
import Histogram

/// Everything a finished run measured.
public struct LoadResult: Codable, Sendable {
    /// The merged counts and histograms.
    public var stats: LoadStats
    /// One entry per second of the run.
    public var series: [IntervalStats]
    /// Seconds during which requests were sent.
    public var elapsedSeconds: Double
    /// The target, as `host:port` (`embedded` noted separately).
    public var target: String
    /// True when the target was the embedded server.
    public var embedded: Bool
    /// Connections asked for.
    public var connections: Int
    /// The workload (the built-in one; see `scenario` for a run that had one).
    public var workload: Workload
    /// How responses were judged (`exact` for echo, whatever was asked).
    public var compare: ResponseComparison
    /// Requests per second asked for in open-loop mode.
    public var rate: Double?
    /// In-flight requests per connection (closed loop) or the cap (open loop).
    public var pipeline: Int
    /// The client backend.
    public var backend: String
    /// What the load's event loops did (system calls, wake-ups; `--stats` prints it).
    public var clientLoops: TransportCounters?
    /// What the embedded server's event loops did; nil for a server elsewhere.
    public var serverLoops: TransportCounters?
    /// The share of a split test this run was (`--segment`), nil for a whole test.
    public var segment: LoadSegment?
    /// The start instant asked for (`--start-at`), Unix seconds.
    public var startAt: Double?
    /// When sending started, Unix seconds (wall clock): what lines the per-second series
    /// of several instances up when their results are merged.
    public var startedAt: Double?
    /// Latencies of each second of the run (the last entry: the rest of it, drain
    /// included), each a compressed HdrHistogram in base64 (`HistogramCodec`): what
    /// `--hlog` writes.
    public var intervalLatencies: [String] = []
    /// Which second (0-based) each of `intervalLatencies` is, when they are not simply
    /// 0, 1, 2, …: a merge of instances that ran apart leaves out the seconds between
    /// them rather than holding an empty histogram for each.
    public var intervalSeconds: [Int]?
    /// After a merge, each instance's own per-second series (moved onto the merged
    /// timeline), for the report's per-instance lines; nil for a single run.
    public var instances: [InstanceSeries]?
    /// The scenario the run followed instead of `workload`, summarized
    /// (`Scenario.summary`); nil for a built-in workload.
    public var scenario: String? = nil
    /// Answers per connection before it was closed and opened again; nil: kept.
    public var requestsPerConnection: Int? = nil
    /// How the run fared against the thresholds it was given; nil without any.
    public var thresholds: [ThresholdOutcome]? = nil

    /// Judges this result by `thresholds` (nil when there are none).
    public mutating func judge(by thresholds: [Threshold]) {
        self.thresholds = thresholds.isEmpty ? nil : thresholds.map { $0.evaluate(self) }
    }

    /// True if a threshold was crossed.
    public var crossedAThreshold: Bool { thresholds?.contains { !$0.held } ?? false }

    /// New connections per second over the sending period (connection churn).
    public var connectionsPerSecond: Double {
        elapsedSeconds > 0 ? Double(stats.connectionsUp) / elapsedSeconds : 0
    }

    /// TLS handshakes per second over the sending period (with connection churn, the
    /// rate of new sessions the server carried).
    public var tlsHandshakesPerSecond: Double {
        elapsedSeconds > 0 ? Double(stats.tls?.handshakes ?? 0) / elapsedSeconds : 0
    }

    /// How far the start was from `startAt`, in seconds (positive: late); nil without it.
    public var startOffset: Double? {
        guard let startAt, let startedAt else { return nil }
        return startedAt - startAt
    }

    /// Correct responses per second over the sending period.
    public var requestsPerSecond: Double { elapsedSeconds > 0 ? Double(stats.requests) / elapsedSeconds : 0 }

    /// Two processes' loop counters added.
    private static func sum(_ a: TransportCounters?, _ b: TransportCounters?) -> TransportCounters? {
        guard let a else { return b }
        guard let b else { return a }
        return a + b
    }

    /// The parts as one result: counts, histograms and series added (`merge`), and the
    /// interval histograms added second by second, `shifts[i]` seconds later for part
    /// `i` (0 by default). One second is decoded, added and encoded at a time, so memory
    /// follows what the parts hold, not how long they span. Returns each merged
    /// second's p99 too.
    package static func combining(_ parts: [LoadResult], shifts: [Int]? = nil) -> (LoadResult, p99: [Int: UInt64]) {
        precondition(!parts.isEmpty, "nothing to combine")
        // Every part's intervals, by the merged second they land on.
        var landing: [(second: Int, part: Int, index: Int)] = []
        for (partIndex, part) in parts.enumerated() {
            let shift = shifts?[partIndex] ?? 0
            for index in part.intervalLatencies.indices where !part.intervalLatencies[index].isEmpty {
                landing.append((shift + (part.intervalSeconds?[index] ?? index), partIndex, index))
            }
        }
        landing.sort { ($0.second, $0.part) < ($1.second, $1.part) }
        var seconds: [Int] = []
        var texts: [String] = []
        var p99: [Int: UInt64] = [:]
        var start = 0
        while start < landing.count {
            let second = landing[start].second
            var end = start
            while end < landing.count && landing[end].second == second { end += 1 }
            seconds.append(second)
            if end - start == 1 {
                // One part only: its histogram as it is (and its own p99 in the series).
                texts.append(parts[landing[start].part].intervalLatencies[landing[start].index])
                start = end
                continue
            }
            end = start
            var sum = LoadStats.makeHistogram()
            while end < landing.count && landing[end].second == second {
                let entry = landing[end]
                if let histogram = try? HistogramCodec.decode(base64: parts[entry.part].intervalLatencies[entry.index]) {
                    sum.add(histogram)
                }
                end += 1
            }
            texts.append(HistogramCodec.base64(sum))
            if sum.totalCount > 0 { p99[second] = sum.valueAtPercentile(99) }
            start = end
        }
        var combined = parts[0]
        for part in parts.dropFirst() { combined.merge(part) }
        combined.intervalLatencies = texts
        combined.intervalSeconds = seconds == Array(seconds.indices) ? nil : seconds
        return (combined, p99)
    }

    /// One result of several instances of a test (`conduit load merge`): each part's
    /// per-second figures are moved by the whole seconds its start was after the
    /// earliest, then everything adds up; each second's p99 is taken from the merged
    /// histogram of that second, so it is exact too. Memory follows what the parts hold:
    /// seconds between instances that ran apart are not filled in.
    public static func merging(_ parts: [LoadResult]) -> LoadResult {
        precondition(!parts.isEmpty, "nothing to merge")
        let earliest = parts.compactMap(\.startedAt).min()
        let shifts = parts.map { part -> Int in
            guard let earliest, let started = part.startedAt else { return 0 }
            // Start times are checked when read (years 2000 to 2200), so this fits.
            return max(Int((started - earliest).rounded()), 0)
        }
        let aligned = zip(parts, shifts).map { part, shift -> LoadResult in
            var part = part
            for index in part.series.indices { part.series[index].second += shift }
            return part
        }
        let instances = aligned.enumerated().map { index, part in
            InstanceSeries(
                label: part.segment.map { "segment \($0)" } ?? "instance \(index + 1)", series: part.series,
                startOffset: part.startOffset)
        }
        var (merged, p99) = combining(aligned, shifts: shifts)
        merged.segment = nil
        merged.instances = instances
        for index in merged.series.indices {
            // Interval i holds second i + 1 (the series counts seconds from 1).
            if let value = p99[merged.series[index].second - 1] { merged.series[index].p99Nanoseconds = value }
        }
        return merged
    }

    /// Adds another part's result in: counts, histograms and the per-second series add
    /// up, connections asked for and rates too; not the interval histograms
    /// (`combining` adds those).
    package mutating func merge(_ other: LoadResult) {
        stats.merge(other.stats)
        clientLoops = Self.sum(clientLoops, other.clientLoops)
        serverLoops = Self.sum(serverLoops, other.serverLoops)
        connections += other.connections
        // Each part sent its share of the rate: the whole sent their sum.
        if rate != nil || other.rate != nil { rate = (rate ?? 0) + (other.rate ?? 0) }
        elapsedSeconds = max(elapsedSeconds, other.elapsedSeconds)
        // Parts of one test: the earliest start stands for them all.
        if let theirs = other.startedAt { startedAt = min(startedAt ?? theirs, theirs) }
        var bySecond = Dictionary(series.enumerated().map { ($1.second, $0) }, uniquingKeysWith: { first, _ in first })
        for entry in other.series {
            if let index = bySecond[entry.second] {
                series[index].requests += entry.requests
                series[index].errors += entry.errors
                series[index].connectionsUp += entry.connectionsUp
                series[index].p99Nanoseconds = max(series[index].p99Nanoseconds, entry.p99Nanoseconds)
            } else {
                bySecond[entry.second] = series.count
                series.append(entry)
            }
        }
        series.sort { $0.second < $1.second }
    }
}

/// One instance's per-second figures within a merged result.
public struct InstanceSeries: Codable, Sendable {
    /// How the report names it: its segment, or its place among the merged files.
    public var label: String
    /// Its seconds, on the merged result's timeline.
    public var series: [IntervalStats]
    /// How far from `--start-at` it started, in seconds (positive: late); nil without it.
    public var startOffset: Double?
}
