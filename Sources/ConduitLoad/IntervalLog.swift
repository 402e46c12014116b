import Foundation
import Histogram

/// HdrHistogram's interval log (`.hlog`, format 1.3): a histogram of latencies per
/// interval of a run, each on a line of its own in the compressed base64 form, readable
/// by HdrHistogram's own tools (HistogramLogProcessor, the `hdrhistogram` Python
/// package, HdrHistogramVisualizer).
public enum IntervalLog {
    /// One line of the log: `start` seconds after the log's start time, lasting
    /// `length` seconds, with its latencies in nanoseconds.
    public struct Interval {
        /// Seconds from the log's start time to the start of this interval.
        public var start: Double
        /// The interval's length in seconds.
        public var length: Double
        /// Latencies recorded in the interval, in nanoseconds.
        public var histogram: Histogram<UInt64>

        /// An interval with all its parts.
        public init(start: Double, length: Double, histogram: Histogram<UInt64>) {
            self.start = start
            self.length = length
            self.histogram = histogram
        }
    }

    /// The log's text: the format version, the start time (Unix seconds), the legend, and
    /// one line per interval whose maximum is written in milliseconds (values are
    /// nanoseconds: readers scale with a ratio of 1,000,000).
    public static func text(startTime: Double, intervals: [Interval]) -> String {
        var lines = [
            "#[Histogram log format version 1.3]",
            "#[StartTime: \(String(format: "%.3f", startTime)) (seconds since epoch), \(WallClock.format(startTime))]",
            "#[BaseTime: \(String(format: "%.3f", startTime)) (seconds since epoch)]",
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
        ]
        for interval in intervals {
            let max = Double(interval.histogram.totalCount > 0 ? interval.histogram.max : 0) / 1e6
            lines.append(
                String(format: "%.3f,%.3f,%.3f,", interval.start, interval.length, max) + HistogramCodec.base64(interval.histogram))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What a log holds: its start time and its intervals (`start` relative to it).
    public struct Contents {
        /// The log's start time, Unix seconds (0 when the log gives none).
        public var startTime: Double
        /// Its intervals, in the order written.
        public var intervals: [Interval]
    }

    /// Reads a log: comments and the legend are skipped, a `Tag=` prefix is ignored, and
    /// a `BaseTime` (or else `StartTime`) makes absolute timestamps relative.
    public static func parse(_ text: String) throws(HistogramCodec.Malformed) -> Contents {
        let log = try entries(text)
        var intervals: [Interval] = []
        for entry in log.intervals {
            intervals.append(
                Interval(start: entry.start, length: entry.length, histogram: try HistogramCodec.decode(base64: entry.histogram)))
        }
        return Contents(startTime: log.startTime, intervals: intervals)
    }

    /// One line of a log, its histogram still compressed (base64).
    struct Entry {
        var start: Double
        var length: Double
        var histogram: String
    }

    /// The log's start time and lines, nothing decoded (see `parse`).
    static func entries(_ text: String) throws(HistogramCodec.Malformed) -> (startTime: Double, intervals: [Entry]) {
        var startTime = 0.0
        var baseTime: Double?
        var intervals: [Entry] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#[StartTime:") {
                startTime = Self.number(after: "#[StartTime:", in: line) ?? startTime
                continue
            }
            if line.hasPrefix("#[BaseTime:") {
                baseTime = Self.number(after: "#[BaseTime:", in: line)
                continue
            }
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("\"") { continue }
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields.first?.hasPrefix("Tag=") == true { fields.removeFirst() }
            guard fields.count == 4, let start = Double(fields[0]), let length = Double(fields[1]) else {
                throw HistogramCodec.Malformed(description: "not an interval line: \(line.prefix(60))")
            }
            intervals.append(Entry(start: start, length: length, histogram: fields[3]))
        }
        // A timestamp counts from the base time when there is one; without one, a
        // timestamp over a year is absolute, a smaller one counts from the start time.
        for index in intervals.indices {
            let stamp = intervals[index].start
            let absolute = baseTime.map { $0 + stamp } ?? (stamp > 365 * 86_400 ? stamp : startTime + stamp)
            intervals[index].start = absolute - startTime
        }
        return (startTime, intervals)
    }

    private static func number(after prefix: String, in line: String) -> Double? {
        let rest = line.dropFirst(prefix.count).drop { $0 == " " }
        return Double(rest.prefix { $0.isNumber || $0 == "." })
    }
}
