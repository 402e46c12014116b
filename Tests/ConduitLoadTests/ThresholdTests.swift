@testable import ConduitLoad
import Testing

/// Thresholds as written, and judged on a result.
@Suite("Thresholds")
struct ThresholdTests {
    static func result(latencies: [UInt64], errors: Int = 0, sent: Int? = nil, seconds: Double = 1) -> LoadResult {
        var stats = LoadStats()
        for latency in latencies { stats.latency.record(latency) }
        stats.requests = latencies.count
        stats.sent = sent ?? latencies.count + errors
        if errors > 0 { stats.recordError("wrong", count: errors) }
        return LoadResult(
            stats: stats, series: [], elapsedSeconds: seconds, target: "t", embedded: false, connections: 1,
            workload: .search, compare: .exact, rate: nil, pipeline: 1, backend: "shim")
    }

    @Test func parsing() throws {
        let p99 = try Threshold(parsing: "p99 < 5ms")
        #expect(p99.metric == .p99 && p99.comparison == .less && p99.limit == 5_000_000 && p99.description == "p99<5ms")
        #expect(try Threshold(parsing: "p99.9<=250us").limit == 250_000)
        #expect(try Threshold(parsing: "max<2").limit == 2_000_000)
        #expect(try Threshold(parsing: "rps>=50k").limit == 50_000)
        #expect(try Threshold(parsing: "error_rate<0.1%").limit == 0.001)
        #expect(try Threshold(parsing: "errors!=3").comparison == .notEqual)
        for bad in ["p99", "p98<1ms", "p99<fast", "rps>=-1", "errors==x"] {
            #expect(throws: ThresholdError.self, "\(bad)") { try Threshold(parsing: bad) }
        }
    }

    @Test func judging() throws {
        let fast = Self.result(latencies: Array(repeating: 1_000_000, count: 99) + [9_000_000])
        var judged = fast
        judged.judge(by: [try Threshold(parsing: "p99<2ms"), try Threshold(parsing: "max<5ms"), try Threshold(parsing: "rps>=100")])
        #expect(judged.thresholds?.map(\.held) == [true, false, true])
        #expect(judged.crossedAThreshold)
        #expect(judged.thresholds?[1].shown == "max 9.00 ms")
        var clean = Self.result(latencies: [1_000], errors: 1, sent: 1_000)
        clean.judge(by: [try Threshold(parsing: "error_rate<=0.1%"), try Threshold(parsing: "errors==0")])
        #expect(clean.thresholds?.map(\.held) == [true, false])
        var none = fast
        none.judge(by: [])
        #expect(none.thresholds == nil && !none.crossedAThreshold)
    }
}
