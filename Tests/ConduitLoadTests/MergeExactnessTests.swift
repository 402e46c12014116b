import Histogram
import Testing

@testable import ConduitLoad

@Suite("Merging results is exact")
struct MergeExactnessTests {
    /// One stream of latencies dealt over three instances, which started a second apart:
    /// the merge's percentiles, counts and per-second histograms equal those of one
    /// histogram fed every value, whatever the split.
    @Test func mergedPercentilesEqualOneHistogramOfEveryValue() throws {
        var generator = SystemRandomNumberGenerator()
        var whole = LoadStats.makeHistogram()
        var parts = (0..<3).map { _ in LoadStats.makeHistogram() }
        var perSecond = (0..<3).map { _ in (0..<2).map { _ in LoadStats.makeHistogram() } }
        for count in 0..<30_000 {
            let value = UInt64.random(in: 1_000...(count % 97 == 0 ? 900_000_000 : 3_000_000), using: &generator)
            let instance = Int.random(in: 0..<3, using: &generator)
            _ = whole.record(value)
            _ = parts[instance].record(value)
            _ = perSecond[instance][count % 2].record(value)
        }
        let results = (0..<3).map { index in
            var stats = LoadStats()
            stats.latency = parts[index]
            stats.serviceTime = parts[index]
            stats.requests = Int(parts[index].totalCount)
            stats.sent = stats.requests
            stats.errors = index == 1 ? ["wrong response": 2] : [:]
            return LoadResult(
                stats: stats, series: [IntervalStats(second: 1), IntervalStats(second: 2)], elapsedSeconds: 2,
                target: "10.0.0.1:9000", embedded: false, connections: 10 + index, workload: .echo, compare: .exact,
                rate: nil, pipeline: 1, backend: "shim", clientLoops: nil, serverLoops: nil,
                segment: LoadSegment(index: index, count: 3), startAt: 1_000, startedAt: 1_000 + Double(index) * 1.02,
                intervalLatencies: perSecond[index].map(HistogramCodec.base64))
        }
        let merged = LoadResult.merging(results)
        #expect(merged.stats.requests == 30_000)
        #expect(merged.stats.latency.totalCount == whole.totalCount)
        for percentile in [50.0, 90, 99, 99.9, 99.99, 100] {
            #expect(merged.stats.latency.valueAtPercentile(percentile) == whole.valueAtPercentile(percentile), "p\(percentile)")
        }
        #expect(merged.stats.latency.max == whole.max)
        #expect(merged.stats.errors == ["wrong response": 2])
        #expect(merged.connections == 33)
        #expect(merged.startedAt == 1_000)
        #expect(merged.segment == nil)
        #expect(merged.instances?.map(\.label) == ["segment 0/3", "segment 1/3", "segment 2/3"])
        // Instance 1 started a second after instance 0, instance 2 two seconds after: on
        // the merged timeline their seconds move, and the interval histograms with them.
        #expect(merged.instances?.map { $0.series.map(\.second) } == [[1, 2], [2, 3], [3, 4]])
        #expect(merged.intervalLatencies.count == 4)
        let intervalTotal = try merged.intervalLatencies.map { try HistogramCodec.decode(base64: $0).totalCount }.reduce(0, +)
        #expect(intervalTotal == whole.totalCount)
        let second2 = try HistogramCodec.decode(base64: merged.intervalLatencies[1])
        #expect(second2.totalCount == perSecond[0][1].totalCount + perSecond[1][0].totalCount)
    }
}
