import Conduit
import Histogram

/// The counts and latency histograms of a load run (or part of one); mergeable across
/// threads and processes, and `Codable` so worker processes can send theirs.
public struct LoadStats: Codable, Sendable {
    /// Responses received complete and correct.
    public var requests = 0
    /// Requests sent.
    public var sent = 0
    /// Errors by kind (`connect: Connection refused`, `wrong response`, …).
    public var errors: [String: Int] = [:]
    /// Latency in nanoseconds: from the intended send time in open-loop mode
    /// (corrected for coordinated omission), from the actual send time otherwise.
    public var latency = LoadStats.makeHistogram()
    /// Service time in nanoseconds: always from the actual send time.
    public var serviceTime = LoadStats.makeHistogram()
    /// Connections that were established.
    public var connectionsUp = 0
    /// Connections that got at least one correct answer.
    public var connectionsAnswered = 0
    /// Nanoseconds from the start until every connection was up or had failed.
    public var connectNanoseconds: UInt64 = 0
    /// Connect latency in nanoseconds: from the connect call to the connection being up.
    public var connectLatency = LoadStats.makeHistogram()
    /// Connections closed after their `requestsPerConnection` answers, to connect again.
    public var connectionsRecycled = 0
    /// TLS handshakes, when the run spoke TLS (nil otherwise, and in records written
    /// before TLS existed).
    public var tls: TLSHandshakeStats?
    /// The first answer judged wrong (its first 256 bytes), for a hint at what the
    /// server is; nil when every answer was right.
    public var firstWrongAnswer: [UInt8]?

    /// A histogram from 1 ns to 100 s with 3 significant digits.
    package static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: .three)
    }

    /// An empty record.
    public init() {}

    /// Total errors of every kind.
    public var errorCount: Int { errors.values.reduce(0, +) }

    /// Counts one error of `kind`.
    package mutating func recordError(_ kind: String, count: Int = 1) {
        errors[kind, default: 0] += count
    }

    /// Adds `other` into this record (connect time: the slowest).
    package mutating func merge(_ other: LoadStats) {
        requests += other.requests
        sent += other.sent
        for (kind, count) in other.errors { errors[kind, default: 0] += count }
        latency.add(other.latency)
        serviceTime.add(other.serviceTime)
        connectionsUp += other.connectionsUp
        connectionsAnswered += other.connectionsAnswered
        connectNanoseconds = max(connectNanoseconds, other.connectNanoseconds)
        connectLatency.add(other.connectLatency)
        connectionsRecycled += other.connectionsRecycled
        if firstWrongAnswer == nil { firstWrongAnswer = other.firstWrongAnswer }
        if let theirs = other.tls {
            var mine = tls ?? TLSHandshakeStats()
            mine.merge(theirs)
            tls = mine
        }
    }

    /// Counts one completed TLS handshake.
    package mutating func recordHandshake(_ details: TLSDetails) {
        var mine = tls ?? TLSHandshakeStats()
        mine.handshakes += 1
        if details.isResumed { mine.resumed += 1 }
        mine.latency.record(max(UInt64(clamping: details.handshakeDuration.nanoseconds), 1))
        tls = mine
    }
}

/// The TLS handshakes of a load run: how many, how many resumed an earlier session,
/// and how long they took (from the TCP connection being up to the handshake's end).
public struct TLSHandshakeStats: Codable, Sendable {
    /// Handshakes completed.
    public var handshakes = 0
    /// Of those, resumed ones.
    public var resumed = 0
    /// Handshake latency in nanoseconds.
    public var latency = LoadStats.makeHistogram()

    /// None yet.
    public init() {}

    /// Adds `other` into this record.
    package mutating func merge(_ other: TLSHandshakeStats) {
        handshakes += other.handshakes
        resumed += other.resumed
        latency.add(other.latency)
    }
}

/// What one second of a run did, for the progress line and the JSON series.
public struct IntervalStats: Codable, Sendable {
    /// Seconds since the start, at the end of this interval.
    public var second = 0
    /// Correct responses in the interval.
    public var requests = 0
    /// Errors in the interval.
    public var errors = 0
    /// Connections up at the end of the interval.
    public var connectionsUp = 0
    /// p99 latency of the interval, in nanoseconds.
    public var p99Nanoseconds: UInt64 = 0

    /// An empty interval ending at `second`.
    public init(second: Int) { self.second = second }

    /// An interval with all its figures.
    public init(second: Int, requests: Int, errors: Int, connectionsUp: Int, p99Nanoseconds: UInt64) {
        self.second = second
        self.requests = requests
        self.errors = errors
        self.connectionsUp = connectionsUp
        self.p99Nanoseconds = p99Nanoseconds
    }

    /// snake_case, as every other key of a result file.
    enum CodingKeys: String, CodingKey {
        case second, requests, errors
        case connectionsUp = "connections_up"
        case p99Nanoseconds = "p99_nanoseconds"
    }
}

extension IntervalStats {
    /// The keys files written before 2026-12-04 used (camelCase), still read by merge.
    private enum EarlierKeys: String, CodingKey {
        case connectionsUp, p99Nanoseconds
    }

    /// Reads an interval, by its keys or by the earlier ones.
    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        let earlier = try decoder.container(keyedBy: EarlierKeys.self)
        second = try keys.decode(Int.self, forKey: .second)
        requests = try keys.decode(Int.self, forKey: .requests)
        errors = try keys.decode(Int.self, forKey: .errors)
        connectionsUp = try keys.decodeIfPresent(Int.self, forKey: .connectionsUp)
            ?? earlier.decode(Int.self, forKey: .connectionsUp)
        p99Nanoseconds = try keys.decodeIfPresent(UInt64.self, forKey: .p99Nanoseconds)
            ?? earlier.decode(UInt64.self, forKey: .p99Nanoseconds)
    }
}
