import Conduit
import Logging

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

    /// Checked on every message ("is this line wanted?"): a switch, not a search of
    /// `allCases` (which built the array each time).
    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }

    /// Orders levels from most to least verbose.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Where log lines go: a level and a sink. Lines are built only when they will be
/// written, so a quiet log costs a comparison.
///
/// In a service, give it your swift-log `Logger` (`AppLog(logger)`): lines go to it at
/// their levels with the peer's address as `peer` metadata. Conduit never bootstraps
/// logging; the application does.
public struct AppLog: Sendable {
    /// The least severe level written.
    public let level: LogLevel
    private let sink: @Sendable (LogLevel, String, SocketAddress?) -> Void

    /// Writes lines at `level` and above to `sink`.
    public init(level: LogLevel, sink: @escaping @Sendable (String) -> Void) {
        self.level = level
        self.sink = { _, line, _ in sink(line) }
    }

    /// Writes to `logger`, at the logger's level (`trace` counts as `debug`, `notice`
    /// as `info`, `critical` as `error`).
    public init(_ logger: Logger) {
        self.level = LogLevel(logger.logLevel)
        self.sink = { level, line, peer in
            logger.log(
                level: level.swiftLogLevel, "\(line)", metadata: peer.map { ["peer": "\($0)"] })
        }
    }

    /// A log that writes nothing.
    public static let silent = AppLog(level: .error) { _ in }

    /// True when lines at `level` are written.
    @inline(__always)
    public func enabled(_ level: LogLevel) -> Bool { level >= self.level }

    /// Writes `line()` if `level` is enabled; `peer` goes to a `Logger` as metadata.
    @inline(__always)
    public func callAsFunction(_ level: LogLevel, _ line: @autoclosure () -> String, peer: SocketAddress? = nil) {
        if level >= self.level { sink(level, line(), peer) }
    }
}

extension LogLevel {
    /// The nearest level to a swift-log level.
    public init(_ level: Logger.Level) {
        switch level {
        case .trace, .debug: self = .debug
        case .info, .notice: self = .info
        case .warning: self = .warning
        case .error, .critical: self = .error
        }
    }

    /// The swift-log level of this level.
    public var swiftLogLevel: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        }
    }
}
