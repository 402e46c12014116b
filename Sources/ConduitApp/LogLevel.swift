/// How much a server or client logs. Per-message lines cost time on the hot path, so
/// load tests use `warning` or `error`.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    /// Every byte sent (the tutorial's `Sending b'...'` lines) and everything below.
    case debug
    /// Connections and requests, like the tutorial's output.
    case info
    /// Protocol errors and failures only.
    case warning
    /// Failures only.
    case error

    private var rank: Int { Self.allCases.firstIndex(of: self)! }

    /// Orders levels from most to least verbose.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Where log lines go: a level and a sink. Lines are built only when they will be
/// written, so a quiet log costs a comparison.
public struct AppLog: Sendable {
    /// The least severe level written.
    public let level: LogLevel
    private let sink: @Sendable (String) -> Void

    /// Writes lines at `level` and above to `sink`.
    public init(level: LogLevel, sink: @escaping @Sendable (String) -> Void) {
        self.level = level
        self.sink = sink
    }

    /// A log that writes nothing.
    public static let silent = AppLog(level: .error) { _ in }

    /// True when lines at `level` are written.
    @inline(__always)
    public func enabled(_ level: LogLevel) -> Bool { level >= self.level }

    /// Writes `line()` if `level` is enabled.
    @inline(__always)
    public func callAsFunction(_ level: LogLevel, _ line: @autoclosure () -> String) {
        if level >= self.level { sink(line()) }
    }
}
