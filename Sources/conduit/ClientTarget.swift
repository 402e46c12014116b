import ArgumentParser
import Conduit

/// The words a client command is given: HOST PORT and then its own (an action, a
/// count, a message), or only its own when `--unix PATH` names the server. One list,
/// because positional arguments are matched in order: with `--unix` the first word is
/// no longer a host.
struct ClientTarget {
    /// HOST and PORT, when the server is not named by `--unix`.
    let host: String?
    let port: Int?
    /// The command's own words, after HOST PORT.
    let rest: [String]
    let unix: String?

    /// Splits and checks `words`: with `unix`, they are all the command's own; without,
    /// the first two are HOST PORT (`hostAndPortRequired` false: each may be left out,
    /// and so are the words after them). The command's own words number `own`. Usage
    /// errors (exit 64) say what was expected.
    init(words: [String], unix: String?, own: ClosedRange<Int>, names: String, hostAndPortRequired: Bool = true) throws {
        try validateUnixPath(unix)
        self.unix = unix
        if unix != nil {
            guard own.contains(words.count) else {
                throw ValidationError("expected \(names) after --unix PATH (got \(arguments(words.count)))")
            }
            (host, port, rest) = (nil, nil, words)
            return
        }
        let least = hostAndPortRequired ? 2 + own.lowerBound : 0
        guard (least...(2 + own.upperBound)).contains(words.count), words.count <= 2 || own.contains(words.count - 2)
        else {
            throw ValidationError("expected HOST PORT \(names), or --unix PATH \(names) (got \(arguments(words.count)))")
        }
        host = words.first
        if words.count > 1 {
            guard let port = Int(words[1]) else { throw ValidationError("PORT must be a number (got '\(words[1])')") }
            try validatePort(port, "PORT", allowZero: false)
            self.port = port
        } else {
            port = nil
        }
        rest = Array(words.dropFirst(2))
    }

    /// The server's address: the Unix socket, or HOST PORT (defaults where left out)
    /// resolved; a name that does not resolve is one line, exit 1.
    func address(defaultHost: String = Defaults.host, defaultPort: Int = Defaults.port) throws -> SocketAddress {
        if let unix { return try SocketAddress.unix(path: unix) }
        return try resolve(host: host ?? defaultHost, port: port ?? defaultPort)
    }
}

/// `1 argument`, `3 arguments`.
private func arguments(_ count: Int) -> String { count == 1 ? "1 argument" : "\(count) arguments" }
