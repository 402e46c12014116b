import Conduit
import Foundation
import Glibc

/// The wall clock (UTC), for what several hosts must agree on: `--start-at` and the
/// instants that line up merged results. Durations are measured on `Monotonic`.
public enum WallClock {
    /// Now, as Unix time in seconds.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The monotonic clock's reading (nanoseconds) at wall-clock instant `unixSeconds`,
    /// as far as the two clocks agree now; now, for an instant already past.
    static func monotonicDeadline(at unixSeconds: Double) -> UInt64 {
        let monotonicNow = Monotonic.now()
        let ahead = unixSeconds - now()
        guard ahead > 0 else { return monotonicNow }
        return monotonicNow + UInt64(min(ahead, 1e9) * 1e9)
    }

    /// Parses an instant as `--start-at` takes it: Unix seconds (`1795000000`,
    /// `1795000000.25`) or RFC 3339 (`2026-11-26T13:00:00Z`, fractional seconds and a
    /// `+01:00` offset allowed). nil if it is neither.
    public static func parse(_ text: String) -> Double? {
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return seconds }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        }
        return nil
    }

    /// `unixSeconds` in RFC 3339, UTC, to the millisecond.
    public static func format(_ unixSeconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: unixSeconds))
    }
}
