import ConduitLoad
import Histogram
import Testing

@Suite("HdrHistogram's compressed encoding and interval log")
struct HistogramCodecTests {
    /// Values over the whole range, many repeated: decoding gives back every bucket.
    @Test func roundTripKeepsEveryBucket() throws {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: .three)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let magnitude = UInt64.random(in: 0...36, using: &generator)
            _ = histogram.record(UInt64.random(in: 1...(UInt64(1) << magnitude), using: &generator))
        }
        _ = histogram.record(99_000_000_000, count: 3)
        let decoded = try HistogramCodec.decode(base64: HistogramCodec.base64(histogram))
        #expect(decoded.totalCount == histogram.totalCount)
        #expect(decoded.max == histogram.max)
        #expect(decoded.min == histogram.min)
        let original = histogram.recordedValues().map { [$0.value, $0.count] }
        let back = decoded.recordedValues().map { [$0.value, $0.count] }
        #expect(original == back)
    }

    /// An empty histogram (a second without responses) encodes too.
    @Test func emptyHistogramRoundTrips() throws {
        let empty = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 1_000_000, numberOfSignificantValueDigits: .two)
        let decoded = try HistogramCodec.decode(base64: HistogramCodec.base64(empty))
        #expect(decoded.totalCount == 0)
        #expect(decoded.highestTrackableValue >= 1_000_000)
    }

    /// A histogram another implementation encoded (the `hdrhistogram` Python package,
    /// whose encoder is C: 7 each of 1, 10, … 10^6 and 123,456,789), decoded here: the
    /// format is the shared one, not only our own.
    @Test func readsAnotherImplementationsEncoding() throws {
        let fromPython = "HISTFAAAADZ4nJNpmSzMwMAgxgABzFCaEYjFPcpeMNh/gArw8fNtZORr5eP7aMz31oSv24zvYx4fAOj5Cnc="
        let histogram = try HistogramCodec.decode(base64: fromPython)
        #expect(histogram.totalCount == 56)
        #expect(histogram.max == 123_469_823)  // the highest value equivalent to 123,456,789
        #expect(histogram.valueAtPercentile(50) == 1_000)
        for value: UInt64 in [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] { #expect(histogram.countForValue(value) == 7) }
    }

    /// The interval log's text reads back: start time, timestamps, lengths, histograms.
    @Test func intervalLogRoundTrips() throws {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: .three)
        for value: UInt64 in [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] { _ = histogram.record(value, count: 7) }
        let text = IntervalLog.text(startTime: 1_795_698_000, intervals: [
            IntervalLog.Interval(start: 0, length: 1, histogram: histogram),
            IntervalLog.Interval(start: 1, length: 0.5, histogram: histogram),
        ])
        let contents = try IntervalLog.parse(text)
        #expect(contents.startTime == 1_795_698_000)
        #expect(contents.intervals.map(\.start) == [0, 1])
        #expect(contents.intervals.map(\.length) == [1, 0.5])
        #expect(contents.intervals.map(\.histogram.totalCount) == [49, 49])
        #expect(text.hasPrefix("#[Histogram log format version 1.3]\n"))
    }

    @Test func refusesWhatIsNotAHistogram() {
        #expect(throws: HistogramCodec.Malformed.self) { try HistogramCodec.decode(base64: "not base64!") }
        #expect(throws: HistogramCodec.Malformed.self) { try HistogramCodec.decode(base64: "AAAAAAAAAAA=") }
        #expect(throws: HistogramCodec.Malformed.self) { try IntervalLog.parse("0.0,1.0\n") }
    }
}
