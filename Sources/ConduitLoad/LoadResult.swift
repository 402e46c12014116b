import Conduit

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
    /// The workload.
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

    /// How far the start was from `startAt`, in seconds (positive: late); nil without it.
    public var startOffset: Double? {
        guard let startAt, let startedAt else { return nil }
        return startedAt - startAt
    }

    /// Correct responses per second over the sending period.
    public var requestsPerSecond: Double { elapsedSeconds > 0 ? Double(stats.requests) / elapsedSeconds : 0 }

    /// Adds another process's result (for `--processes`): counts, histograms and the
    /// per-second series add up; connections asked for add up too.
    private static func sum(_ a: TransportCounters?, _ b: TransportCounters?) -> TransportCounters? {
        guard let a else { return b }
        guard let b else { return a }
        return a + b
    }

    package mutating func merge(_ other: LoadResult) {
        stats.merge(other.stats)
        clientLoops = Self.sum(clientLoops, other.clientLoops)
        serverLoops = Self.sum(serverLoops, other.serverLoops)
        connections += other.connections
        elapsedSeconds = max(elapsedSeconds, other.elapsedSeconds)
        // Parts of one test: the earliest start stands for them all.
        if let theirs = other.startedAt { startedAt = min(startedAt ?? theirs, theirs) }
        for entry in other.series {
            if let index = series.firstIndex(where: { $0.second == entry.second }) {
                series[index].requests += entry.requests
                series[index].errors += entry.errors
                series[index].connectionsUp += entry.connectionsUp
                series[index].p99Nanoseconds = max(series[index].p99Nanoseconds, entry.p99Nanoseconds)
            } else {
                series.append(entry)
            }
        }
        series.sort { $0.second < $1.second }
    }
}
