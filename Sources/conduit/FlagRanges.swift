import ArgumentParser
import ConduitMessage

/// The accepted range of every numeric flag that has one. Each is checked in the
/// command's `validate()`, so a value outside it is a usage error (exit 64) naming the
/// flag and the range, before anything runs; and each range is narrow enough that the
/// code after validation cannot overflow or trap at either end.
enum FlagRange {
    /// Event loop threads (`--threads`, `load --server-threads`).
    static let threads = 1...256
    /// Worker processes (`--processes`).
    static let processes = 1...256
    /// Timeouts and waits (`--header-timeout`, `--idle-timeout`, `--shutdown-grace`,
    /// `load --drain`): 0 (off, or no wait) to 1,000,000 s, about 11.6 days. Far above
    /// it, converting to a `Duration` or to nanoseconds overflows.
    static let timeout = Seconds(0)...Seconds(1_000_000)
    /// `load --duration`: from one millisecond (the open-loop tick) to 1,000,000 s.
    static let duration = Seconds(0.001)...Seconds(1_000_000)
    /// `load --connections`: up to a million (in `--processes` and `--source-addresses`);
    /// the per-connection arithmetic, and the connect schedule at the least
    /// `--connect-rate`, stay far inside 64 bits.
    static let connections = Count(1)...Count(1_000_000)
    /// `load --rate` and `--connect-rate`, per second in total. At the least, one request
    /// (or connection) every 1,000 s, so that the interval 1e9/rate ns stays finite and
    /// a connect schedule fits in 64-bit nanoseconds; at the most one every 10 ns.
    static let rate = Count(0.001)...Count(100_000_000)
    /// Payload bytes (`load --size`, `multiconn-client --message-size`): up to the app
    /// server's default content-length limit, 16 MiB.
    static let payload = 1...MessageLimits().maxContentLength
    /// Requests in flight per connection (`load --pipeline`).
    static let pipeline = 1...10_000
    /// `multiconn-client --messages`.
    static let messages = 1...100_000
    /// `--max-content-length`: what the wire format can carry (a larger number would be
    /// cut to this silently).
    static let contentLength = 0...MessageLimits.largestContentLength
    /// `--max-json-depth`: deep enough for any sensible request, shallow enough that the
    /// recursive parser's stack is never at risk.
    static let jsonDepth = 1...512
    /// `--max-json-values`.
    static let jsonValues = 1...100_000_000
    /// `--memory-budget`, bytes: from 1 MiB (one large message must fit) to 1 TiB.
    static let memoryBudget = (1 << 20)...(1 << 40)
    /// `--max-header-bytes`: what the 2-byte length of the wire format can say.
    static let headerBytes = 1...65_535
}

/// A flag value that can be checked against a `FlagRange`, and shown as it is typed.
protocol RangedValue: Comparable {
    /// The value as a user would type it: `256`, `0.001`, `1e+30`, `5s`.
    var typed: String { get }
}

extension RangedValue {
    /// Throws a usage error (exit 64) unless the value is in `range`:
    /// `--rate must be between 0.001 and 100000000 (got 1e+30)`.
    func validate(_ flag: String, in range: ClosedRange<Self>) throws {
        guard range.contains(self) else {
            throw ValidationError("\(flag) must be between \(range.lowerBound.typed) and \(range.upperBound.typed) (got \(typed))")
        }
    }
}

extension Int: RangedValue {
    var typed: String { String(self) }
}

extension Count: RangedValue {
    var typed: String { description }
    static func < (left: Count, right: Count) -> Bool { left.value < right.value }
}

extension Seconds: RangedValue {
    var typed: String { description }
    static func < (left: Seconds, right: Seconds) -> Bool { left.value < right.value }
}

extension ClosedRange where Bound: RangedValue {
    /// `1-256`, `0s-1000000s`: for help texts.
    var typed: String { "\(lowerBound.typed)-\(upperBound.typed)" }
}
