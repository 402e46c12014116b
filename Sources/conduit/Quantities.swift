import ArgumentParser
import Conduit

/// A count typed with an optional `k` or `m` suffix: `500`, `10k`, `1.5m`.
struct Count: ExpressibleByArgument, Sendable {
    let value: Double

    init?(argument: String) {
        let text = argument.lowercased()
        let (number, scale): (Substring, Double) =
            text.hasSuffix("k") ? (text.dropLast(), 1e3) : text.hasSuffix("m") ? (text.dropLast(), 1e6) : (text[...], 1)
        guard let parsed = Double(number), parsed >= 0, parsed.isFinite else { return nil }
        value = parsed * scale
    }

    var intValue: Int { Int(value.rounded()) }
    static var defaultCompletionKind: CompletionKind { .default }
}

/// A duration typed as `10s`, `2m`, `500ms` or plain seconds.
struct Seconds: ExpressibleByArgument, Sendable {
    let value: Double

    init(_ value: Double) { self.value = value }

    /// The same length of time as a `Duration`.
    var duration: Duration { .seconds(value) }

    init?(argument: String) {
        let text = argument.lowercased()
        let (number, scale): (Substring, Double) =
            text.hasSuffix("ms") ? (text.dropLast(2), 1e-3)
            : text.hasSuffix("s") ? (text.dropLast(), 1)
            : text.hasSuffix("m") ? (text.dropLast(), 60)
            : text.hasSuffix("h") ? (text.dropLast(), 3600) : (text[...], 1)
        guard let parsed = Double(number), parsed >= 0, parsed.isFinite else { return nil }
        value = parsed * scale
    }

    var defaultValueDescription: String { "\(value)s" }
}

/// `HOST:PORT` or `[IPv6]:PORT`.
struct HostPort: ExpressibleByArgument, Sendable {
    let host: String
    let port: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]) else {
            return nil
        }
        var host = String(argument[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
