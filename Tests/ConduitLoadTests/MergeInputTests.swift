import Foundation
import Histogram
import Testing

@testable import ConduitLoad

/// A merge input is a file someone else wrote. Each hostile value below trapped the
/// process, took gigabytes of memory, or was added as if it were right (a negative
/// count made a failed run look clean); each must now be one error naming the field.
@Suite("Merge inputs are checked field by field")
struct MergeInputTests {
    /// A genuine `--json` result as a dictionary, to spoil one field at a time.
    static func genuine(startedAt: Double = 1_764_000_000) throws -> [String: Any] {
        var stats = LoadStats()
        for value in [1_000, 2_000, 5_000_000] as [UInt64] {
            _ = stats.latency.record(value)
            _ = stats.serviceTime.record(value)
        }
        stats.requests = 3
        stats.sent = 3
        stats.connectionsUp = 2
        let result = LoadResult(
            stats: stats, series: [IntervalStats(second: 1, requests: 3, errors: 0, connectionsUp: 2, p99Nanoseconds: 5_000_000)],
            elapsedSeconds: 1, target: "127.0.0.1:9000", embedded: false, connections: 2, workload: .echo, compare: .exact,
            rate: nil, pipeline: 1, backend: "shim", clientLoops: nil, serverLoops: nil,
            segment: LoadSegment(index: 0, count: 2), startAt: nil, startedAt: startedAt,
            intervalLatencies: [HistogramCodec.base64(stats.latency)])
        return try JSONSerialization.jsonObject(with: LoadReport.json(result)) as! [String: Any]
    }

    static func read(_ object: [String: Any]) throws -> LoadResult {
        try LoadReport.result(fromJSON: JSONSerialization.data(withJSONObject: object))
    }

    /// The field a spoiled file is refused for.
    static func refusedField(_ change: (inout [String: Any]) -> Void) throws -> String? {
        var object = try genuine()
        change(&object)
        do {
            _ = try read(object)
            return nil
        } catch let error as LoadFileError {
            return error.field
        }
    }

    @Test func theGenuineFileIsRead() throws {
        let result = try Self.read(Self.genuine())
        #expect(result.stats.requests == 3)
        #expect(result.stats.latency.totalCount == 3)
    }

    @Test func numbersThatTrappedAreRefused() throws {
        #expect(try Self.refusedField { $0["connect_ms"] = 1e300 } == "connect_ms")
        #expect(try Self.refusedField { $0["rate"] = 1e300 } == "rate")
        #expect(try Self.refusedField { $0["start_at"] = -1e300 } == "start_at")
        #expect(try Self.refusedField { $0["started_at"] = 1e300 } == "started_at")
        #expect(try Self.refusedField { $0["requests"] = Int.max } == "requests")
        #expect(try Self.refusedField { $0["duration_s"] = -1 } == "duration_s")
        #expect(try Self.refusedField { $0["pipeline"] = 0 } == "pipeline")
    }

    @Test func negativeAndHugeCountsAreRefused() throws {
        #expect(try Self.refusedField { $0["errors"] = ["reset": -500] } == "errors.reset")
        #expect(try Self.refusedField { $0["errors"] = ["reset": Int.max] } == "errors.reset")
        #expect(try Self.refusedField { $0["sent"] = -1 } == "sent")
        #expect(try Self.refusedField { $0["connections_up"] = -3 } == "connections_up")
        #expect(try Self.refusedField {
            $0["series"] = [["second": 1, "requests": -7, "errors": 0, "connectionsUp": 0, "p99Nanoseconds": 0]]
        } == "series[0].requests")
    }

    /// A split into a billion segments used to list every missing one; the split's
    /// size is bounded now.
    @Test func anAbsurdSegmentIsRefused() throws {
        #expect(try Self.refusedField { $0["segment"] = "0/1000000000" } == "segment")
        #expect(try Self.refusedField { $0["segment"] = "5/2" } == "segment")
    }

    /// A denormal duration made requests per second infinite, and the report trapped
    /// converting it; it is shown as the largest number instead.
    @Test func aTinyDurationDoesNotTrapTheReport() throws {
        var object = try Self.genuine()
        object["duration_s"] = Double.leastNonzeroMagnitude  // 5e-324
        let text = LoadReport.text(try Self.read(object))
        #expect(text.contains("requests/s"))
    }

    /// Histograms: a lowest value of 2^63, a run of Int64.min empty buckets, a bucket
    /// index of a billion (it was recorded as 0 ns), a value above 100 s.
    @Test func hostileHistogramsAreRefused() throws {
        let cases: [(String, [UInt8])] = [
            ("range", Self.encoding(lowest: 1 << 63, highest: .max, counts: [1])),
            ("past the range", Self.encoding(lowest: 1, highest: 100_000_000_000, zigZags: [Int64.min])),
            ("past the range", Self.encoding(lowest: 1, highest: 100_000_000_000, zigZags: [-1_000_000_000, 5])),
            ("above the 100 s", Self.encoding(lowest: 1, highest: 1 << 60, zigZags: [-40_000, 1])),
        ]
        for (problem, encoding) in cases {
            let text = Data(HistogramCodec.compressed(encoding: encoding)).base64EncodedString()
            var object = try Self.genuine()
            object["latency_histogram"] = text
            do {
                _ = try Self.read(object)
                Issue.record("accepted: \(problem)")
            } catch let error as LoadFileError {
                #expect(error.field == "latency_histogram")
                #expect(error.problem.contains(problem), "\(error)")
            }
        }
    }

    /// A histogram written with another layout (another lowest value, fewer digits)
    /// is read into Conduit's own, value for value, and adds up with the rest.
    @Test func anotherLayoutIsReadIntoOurs() throws {
        var theirs = Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 1 << 40, numberOfSignificantValueDigits: .two)
        _ = theirs.record(2_000_000, count: 5)
        let decoded = try HistogramCodec.decode(base64: HistogramCodec.base64(theirs))
        #expect(decoded.totalCount == 5)
        #expect(decoded.lowestDiscernibleValue == LoadStats.makeHistogram().lowestDiscernibleValue)
        #expect(decoded.valueAtPercentile(50) >= 1_990_000 && decoded.valueAtPercentile(50) <= 2_010_000)
        var object = try Self.genuine()
        object["interval_histograms"] = [HistogramCodec.base64(theirs)]
        let merged = LoadResult.merging([try Self.read(object), try Self.read(Self.genuine())])
        let second = try HistogramCodec.decode(base64: merged.intervalLatencies[0])
        #expect(second.totalCount == 5 + 3)
    }

    /// Two genuine results that started four hours apart: 14,400 empty seconds between
    /// them used to be a histogram each (3.26 GB). Only seconds with data are kept.
    @Test func instancesFarApartCostWhatTheyHold() throws {
        let early = try Self.read(Self.genuine(startedAt: 1_764_000_000))
        let late = try Self.read(Self.genuine(startedAt: 1_764_000_000 + 4 * 3_600))
        let merged = LoadResult.merging([early, late])
        #expect(merged.intervalLatencies.count == 2)
        #expect(merged.intervalSeconds == [0, 14_400])
        #expect(merged.series.map(\.second) == [1, 14_401])
        #expect(merged.stats.requests == 6)
        let log = LoadReport.hlog(merged)
        let reread = try LoadReport.result(fromIntervalLog: log, name: "merged.hlog")
        #expect(reread.stats.latency.totalCount == 6)
        #expect(reread.intervalSeconds == [0, 14_400])
    }

    /// A V2 encoding with the given header and payload (ZigZag numbers as given, or
    /// counts from index 0), uncompressed.
    static func encoding(lowest: UInt64, highest: UInt64, digits: UInt32 = 3, counts: [Int64] = [], zigZags: [Int64] = [])
        -> [UInt8]
    {
        var payload = ByteWriter()
        for value in counts + zigZags { payload.zigZag(value) }
        var out = ByteWriter()
        out.int32(HistogramCodec.encodingCookie)
        out.int32(UInt32(payload.bytes.count))
        out.int32(0)
        out.int32(digits)
        out.int64(lowest)
        out.int64(highest)
        out.int64((1.0 as Double).bitPattern)
        out.bytes += payload.bytes
        return out.bytes
    }
}
