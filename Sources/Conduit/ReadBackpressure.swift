/// Whether a connection stops reading while its own unsent output is high.
///
/// Pausing protects a server from a peer that sends requests but never reads the
/// answers. A client that streams to a peer which answers (an echo) must not pause:
/// its peer's output is its input, so if it stopped reading the peer would stop too,
/// and neither would move again. Hence servers pause by default and clients do not.
public enum ReadBackpressure: Sendable, Equatable {
    /// Pause reading while more than `above` bytes wait to be sent; resume once at most
    /// `resumeBelow` do. Needs `0 <= resumeBelow < above`.
    case pauseReading(above: Int, resumeBelow: Int)
    /// Always read, whatever is queued; the application bounds its own output (a
    /// client waits for `connectionDidDrain`, for example).
    case keepReading

    /// The servers' default: pause above 1 MiB queued, resume at 256 KiB.
    public static let serverDefault = ReadBackpressure.pauseReading(above: 1 << 20, resumeBelow: 256 << 10)

    /// The two thresholds, checked; `keepReading` never pauses.
    var thresholds: (pauseAbove: Int, resumeBelow: Int) {
        switch self {
        case .keepReading:
            return (Int.max, Int.max)
        case .pauseReading(let above, let resumeBelow):
            precondition(
                resumeBelow >= 0 && resumeBelow < above,
                "ReadBackpressure.pauseReading needs 0 <= resumeBelow < above (got \(resumeBelow), \(above))")
            return (above, resumeBelow)
        }
    }
}
