import Foundation
import Histogram
import Testing

@testable import ConduitLoad

/// What the --html report shows, checked in its text (Chromium renders it in the merge
/// test): round ticks, whole counts, a percentile axis no longer than the data, the
/// mean and maximum, uncorrected figures beside corrected ones, no needless legend.
@Suite("The HTML report")
struct HTMLReportTests {
    /// A result of `requests` answers of 1 … 5 ms over three seconds.
    static func result(requests: Int, rate: Double? = nil) -> LoadResult {
        var stats = LoadStats()
        for index in 0..<requests {
            let value = UInt64(1_000_000 + index % 4_000_000)
            _ = stats.latency.record(value)
            _ = stats.serviceTime.record(value / 2)
        }
        stats.requests = requests
        stats.sent = requests
        stats.connectionsUp = 2
        let series = (1...3).map { IntervalStats(second: $0, requests: requests / 3, errors: $0 == 2 ? 1 : 0, connectionsUp: 2, p99Nanoseconds: 4_900_000) }
        return LoadResult(
            stats: stats, series: series, elapsedSeconds: 3, target: "127.0.0.1:9000", embedded: false, connections: 2,
            workload: .echo, compare: .exact, rate: rate, pipeline: 1, backend: "shim", clientLoops: nil, serverLoops: nil,
            segment: nil, startAt: nil, startedAt: 1_764_000_000, intervalLatencies: [])
    }

    @Test func ticksAreRound() {
        #expect(Chart.ticks(upTo: 5, whole: false) == [0, 1, 2, 3, 4, 5])
        #expect(Chart.ticks(upTo: 4.3, whole: false) == [0, 1, 2, 3, 4, 5])
        #expect(Chart.ticks(upTo: 0.37, whole: false) == [0, 0.1, 0.2, 0.30000000000000004, 0.4])
        #expect(Chart.label(0.30000000000000004, step: 0.1) == "0.3")
        #expect(Chart.ticks(upTo: 170_000, whole: true).map { Chart.label($0, step: 50_000) } == ["0", "50k", "100k", "150k", "200k"])
        // Counts: whole steps, so no fraction of an error.
        #expect(Chart.ticks(upTo: 1, whole: true) == [0, 1])
        #expect(Chart.ticks(upTo: 3, whole: true).allSatisfy { $0 == $0.rounded() })
    }

    @Test func thePercentileAxisEndsWhereTheDataDoes() {
        #expect(HTMLReport.percentileTicks(samples: 156_000).last?.1 == "99.999%")
        #expect(HTMLReport.percentileTicks(samples: 1_000).last?.1 == "99.9%")
        #expect(HTMLReport.percentileTicks(samples: 10).last?.1 == "99%")
        #expect(HTMLReport.percentileTicks(samples: 50_000_000).last?.1 == "99.9999%")
    }

    @Test func aClosedLoopRunShowsMeanMaxAndNoLegendForItsOneLine() {
        let page = HTMLReport.page(Self.result(requests: 3_000))
        #expect(page.contains("<td>mean "))
        #expect(page.contains("<td>max "))
        #expect(!page.contains(">all<"))
        #expect(!page.contains("service time"))
        #expect(page.contains("p99 latency per second<"))
        // Round y ticks on the 0-5 ms p99 chart: no 1.2 or 3.8.
        #expect(!page.contains(">1.2<") && !page.contains(">3.8<"))
        #expect(page.contains("grid-template-columns"))
        #expect(page.contains("viewBox=\"0 0 560 280\""))
    }

    @Test func anOpenLoopRunShowsCorrectedAndUncorrected() {
        let page = HTMLReport.page(Self.result(requests: 3_000, rate: 1_000))
        #expect(page.contains("<td>latency (corrected)</td>"))
        #expect(page.contains("<td>service time (uncorrected)</td>"))
        #expect(page.contains("p99 latency per second (corrected)"))
        // Two lines on the spectrum: a legend, below the chart, not over it.
        #expect(page.contains("<figcaption><span>"))
    }
}
