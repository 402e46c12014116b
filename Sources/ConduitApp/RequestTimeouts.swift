/// How long a request may take to arrive, counted from its start (the connection's
/// open, or the first byte after the previous message); `.zero` disables each.
struct RequestTimeouts: Sendable {
    /// For the 2-byte length and the JSON header (slowloris).
    var header: Duration
    /// For the whole message, content included (a slow upload).
    var message: Duration

    /// The limit that applies to a message whose header is (or is not) complete:
    /// the sooner of the two, nil if neither applies.
    func limit(headerComplete: Bool) -> Duration? {
        let header = headerComplete || self.header == .zero ? nil : self.header
        let message = self.message == .zero ? nil : self.message
        switch (header, message) {
        case (let header?, let message?): return min(header, message)
        case (let only?, nil), (nil, let only?): return only
        case (nil, nil): return nil
        }
    }

    /// `duration` in seconds as a person reads it: `10`, `1.5`.
    static func text(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        return fraction == 0 ? String(whole) : String(Double(whole) + Double(fraction) / 1e18)
    }
}
