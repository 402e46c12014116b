import ArgumentParser
import Conduit

/// A count typed with an optional `k` or `m` suffix: `500`, `10k`, `1.5m`.
struct Count: ExpressibleByArgument, CustomStringConvertible, Equatable, Sendable {
    let value: Double

    init(_ value: Double) { self.value = value }

    init?(argument: String) {
        let text = argument.lowercased()
        let (number, scale): (Substring, Double) =
            text.hasSuffix("k") ? (text.dropLast(), 1e3) : text.hasSuffix("m") ? (text.dropLast(), 1e6) : (text[...], 1)
        // The product too must be finite: `1e308k` is no number.
        guard let parsed = Double(number), parsed >= 0, (parsed * scale).isFinite else { return nil }
        value = parsed * scale
    }

    /// Rounded to an `Int`; only for a value already checked against a `FlagRange`
    /// (converting one above `Int.max` traps).
    var intValue: Int { Int(value.rounded()) }
    static var defaultCompletionKind: CompletionKind { .default }

    /// The number as typed back: `50`, `1500`, `2.5`.
    var description: String { plainNumber(value) }
    /// What `--help` shows as the default.
    var defaultValueDescription: String { description }
}

/// A duration typed as `10s`, `2m`, `500ms` or plain seconds.
struct Seconds: ExpressibleByArgument, CustomStringConvertible, Equatable, Sendable {
    let value: Double

    init(_ value: Double) { self.value = value }

    /// The same length of time as a `Duration`; only for a value already checked against
    /// a `FlagRange` (one above about 1.7e20 s traps).
    var duration: Duration { .seconds(value) }

    /// `duration` as this type parses it back (`2.5s`), for a worker's command line.
    static func text(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return "\(Double(seconds) + Double(attoseconds) / 1e18)s"
    }

    init?(argument: String) {
        let text = argument.lowercased()
        let (number, scale): (Substring, Double) =
            text.hasSuffix("ms") ? (text.dropLast(2), 1e-3)
            : text.hasSuffix("s") ? (text.dropLast(), 1)
            : text.hasSuffix("m") ? (text.dropLast(), 60)
            : text.hasSuffix("h") ? (text.dropLast(), 3600) : (text[...], 1)
        guard let parsed = Double(number), parsed >= 0, (parsed * scale).isFinite else { return nil }
        value = parsed * scale
    }

    /// The duration as it would be typed: `5s`, `0.5s`.
    var description: String { plainNumber(value) + "s" }
    /// What `--help` shows as the default.
    var defaultValueDescription: String { description }
}

/// `value` without a needless `.0`, so help text and messages read as typed.
func plainNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}

/// `HOST:PORT` or `[IPv6]:PORT`.
struct HostPort: ExpressibleByArgument, Sendable {
    let host: String
    let port: Int

    /// Nil (a usage error) for what `parse` refuses.
    init?(argument: String) {
        guard let parsed = try? Self.parse(argument) else { return nil }
        self = parsed
    }

    private init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `text`, or says what is wrong with it: a missing host or port, an unclosed
    /// bracket, or an IPv6 address without brackets, instead of guessing (`:1` used to
    /// mean `0.0.0.0:1`).
    static func parse(_ text: String) throws -> HostPort {
        let example = "give HOST:PORT, such as 127.0.0.1:65432, or [IPv6]:PORT"
        guard let colon = text.lastIndex(of: ":") else {
            throw ValidationError("'\(text)' has no port: \(example)")
        }
        let portText = text[text.index(after: colon)...]
        var host = String(text[..<colon])
        if !host.hasPrefix("[") && host.contains(":") {
            throw ValidationError("'\(text)': an IPv6 address goes in brackets, as [\(text)]:PORT or [::1]:65432")
        }
        guard let port = Int(portText) else {
            throw ValidationError("'\(text)': the port '\(portText)' is not a number: \(example)")
        }
        if host.hasPrefix("[") || host.hasSuffix("]") {
            guard host.hasPrefix("["), host.hasSuffix("]"), host.count > 2 else {
                throw ValidationError("'\(text)': the brackets around the IPv6 address do not match: \(example)")
            }
            host = String(host.dropFirst().dropLast())
        }
        guard !host.isEmpty else { throw ValidationError("'\(text)' has no host before the port: \(example)") }
        return HostPort(host: host, port: port)
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A byte count typed as plain bytes or with a binary suffix: `1048576`, `64KiB`, `1MiB`,
/// `2GiB`, `1TiB` (what `--help` shows defaults in).
func parseByteCount(_ text: String) throws -> Int {
    let suffixes: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40)]
    let (digits, scale) = suffixes.first { text.hasSuffix($0.0) }.map { (text.dropLast($0.0.count), $0.1) } ?? (text[...], 1)
    guard let number = Int(digits), number >= 0, number <= Int.max / scale else {
        throw ValidationError("'\(text)' is not a byte count: give bytes, or a number with KiB, MiB, GiB or TiB (256MiB)")
    }
    return number * scale
}
