import ConduitLoad
import Testing

@Suite("Segments of a split load test add up to the whole")
struct LoadSegmentUnitTests {
    /// Every split of every total: the shares sum to the total, differ by at most one,
    /// and each starts where the one before ended.
    @Test func sharesAddUpExactly() {
        for total in [1, 2, 3, 7, 10, 11, 100, 99_999, 100_000] {
            for count in 1...12 {
                let segments = (0..<count).map { LoadSegment(index: $0, count: count)! }
                let shares = segments.map { $0.share(of: total) }
                #expect(shares.reduce(0, +) == total, "\(total) over \(count)")
                #expect(shares.max()! - shares.min()! <= 1)
                for (segment, share) in zip(segments, shares) where segment.index + 1 < count {
                    #expect(segment.offset(in: total) + share == segments[segment.index + 1].offset(in: total))
                }
            }
        }
    }

    @Test func optionsSplitConnectionsRatesAndSourceAddresses() {
        var whole = LoadOptions()
        whole.connections = 10
        whole.rate = 1_000
        whole.connectRate = 500
        whole.sourceAddresses = 8
        let parts = (0..<4).map { LoadSegment(index: $0, count: 4)!.options(of: whole) }
        #expect(parts.map(\.connections) == [3, 3, 2, 2])
        #expect(abs(parts.compactMap(\.rate).reduce(0, +) - 1_000) < 1e-9)
        #expect(abs(parts.compactMap(\.connectRate).reduce(0, +) - 500) < 1e-9)
        // Each its own run of 127.0.0.1 … 127.0.0.8, two apiece, none shared.
        #expect(parts.map(\.sourceAddresses) == [2, 2, 2, 2])
        #expect(parts.map(\.sourceAddressOffset) == [0, 2, 4, 6])
        #expect(parts.map(\.segment?.description) == ["0/4", "1/4", "2/4", "3/4"])
        // Fewer addresses than segments: each instance binds all of its host's own.
        whole.sourceAddresses = 2
        #expect(LoadSegment(index: 3, count: 4)!.options(of: whole).sourceAddresses == 2)
    }

    @Test func parsesOnlyValidSegments() {
        #expect(LoadSegment("0/1") == LoadSegment(index: 0, count: 1))
        #expect(LoadSegment("3/4")?.description == "3/4")
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""] { #expect(LoadSegment(bad) == nil, "\(bad)") }
    }

    @Test func parsesStartInstants() {
        #expect(WallClock.parse("1795000000") == 1_795_000_000)
        #expect(WallClock.parse("1795000000.25") == 1_795_000_000.25)
        #expect(WallClock.parse("2026-11-26T13:00:00Z") == 1_795_698_000)
        #expect(WallClock.parse("2026-11-26T14:00:00+01:00") == 1_795_698_000)
        #expect(WallClock.parse("2026-11-26T13:00:00.500Z") == 1_795_698_000.5)
        for bad in ["noon", "2026-11-26", "-5", ""] { #expect(WallClock.parse(bad) == nil, "\(bad)") }
        #expect(WallClock.format(1_795_698_000.5) == "2026-11-26T13:00:00.500Z")
    }
}
