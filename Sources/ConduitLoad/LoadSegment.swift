/// One share of a load test split over several instances (`conduit load --segment I/N`),
/// as k6's execution segments split one: segment `index` of `count`, 0-based.
///
/// The shares add up exactly to the unsplit test: connections are dealt out so that the
/// first `total % count` segments take one more, and rates follow each segment's share of
/// the connections, so no connection is counted twice or lost when `count` does not
/// divide the total.
public struct LoadSegment: Sendable, Equatable, Codable, CustomStringConvertible {
    /// This segment, 0-based: 0 ..< `count`.
    public let index: Int
    /// How many segments the test is split into.
    public let count: Int

    /// Segment `index` of `count`; nil unless 0 ≤ index < count.
    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`, as `--segment` takes it.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { return nil }
        self.init(index: index, count: count)
    }

    /// `I/N`.
    public var description: String { "\(index)/\(count)" }

    /// This segment's share of `total` things dealt out in turn: `total / count`, plus
    /// one for each of the first `total % count` segments.
    public func share(of total: Int) -> Int {
        total / count + (index < total % count ? 1 : 0)
    }

    /// How many of the `total` things the segments before this one take: where this
    /// segment's own share starts.
    public func offset(in total: Int) -> Int {
        index * (total / count) + min(index, total % count)
    }

    /// The options for this segment of the test `whole` describes: its share of the
    /// connections, of `rate` and `connectRate` (in proportion to its connections), and,
    /// when there are at least as many source addresses as segments, its own run of them.
    /// With fewer source addresses than segments every segment binds them all: each
    /// instance runs on its own host, whose addresses are its own.
    public func options(of whole: LoadOptions) -> LoadOptions {
        var part = whole
        part.connections = share(of: whole.connections)
        let fraction = Double(part.connections) / Double(whole.connections)
        part.rate = whole.rate.map { $0 * fraction }
        part.connectRate = whole.connectRate.map { $0 * fraction }
        if whole.sourceAddresses >= count {
            part.sourceAddresses = share(of: whole.sourceAddresses)
            part.sourceAddressOffset = whole.sourceAddressOffset + offset(in: whole.sourceAddresses)
        }
        part.segment = self
        return part
    }
}
