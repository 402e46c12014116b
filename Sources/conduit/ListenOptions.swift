import ArgumentParser
import Conduit
import ConduitApp
import Glibc

/// Where a server listens when not on HOST PORT: `--unix PATH` or `--listen-fd N|systemd`.
struct ListenOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Listen on the Unix domain socket at PATH instead of HOST PORT. A stale socket file there (nothing listening) is replaced; a live one is refused; the file is removed on exit.",
        valueName: "path"))
    var unix: String?
    @Option(help: ArgumentHelp(
        "Serve the socket already bound and listening on descriptor N (TCP or Unix) instead of HOST PORT; 'systemd' takes descriptor 3 from socket activation (LISTEN_FDS=1, LISTEN_PID).",
        valueName: "n|systemd"))
    var listenFd: String?
    @Option(help: ArgumentHelp(
        "With --unix: the socket file's permissions, in octal (600: this user only; 660: and the group). Default: what the umask leaves.",
        valueName: "octal"))
    var unixMode: String?

    /// The flag that names the socket instead of HOST PORT, if one does.
    var replacingFlag: String? { unix != nil ? "--unix" : listenFd != nil ? "--listen-fd" : nil }

    /// Usage errors (exit 64): both flags at once, either with HOST or PORT, a Unix
    /// path that cannot be one, or, when `hostAndPortRequired`, none of the three.
    func validate(host: String?, port: Int?, hostAndPortRequired: Bool) throws {
        if unix != nil && listenFd != nil {
            throw ValidationError("--unix and --listen-fd both name the socket to serve; give one")
        }
        if let flag = replacingFlag {
            guard host == nil && port == nil else { throw ValidationError("HOST and PORT do not go with \(flag)") }
            try validateUnixPath(unix)
            if let listenFd { _ = try ListenDescriptor(listenFd) }
        } else if hostAndPortRequired && (host == nil || port == nil) {
            throw ValidationError("give HOST and PORT, --unix PATH or --listen-fd N")
        }
        if let port { try validatePort(port, "PORT") }
        if unixMode != nil {
            guard unix != nil else { throw ValidationError("--unix-mode goes with --unix") }
            _ = try socketFileMode()
        }
    }

    /// `--unix-mode` as permission bits (0 to 0777), nil when not given.
    func socketFileMode() throws -> UInt32? {
        guard let unixMode else { return nil }
        let digits = unixMode.hasPrefix("0o") ? String(unixMode.dropFirst(2)) : unixMode
        guard let mode = UInt32(digits, radix: 8), mode <= 0o777 else {
            throw ValidationError("--unix-mode must be octal permissions from 0 to 777 (got \(unixMode))")
        }
        return mode
    }

    /// `options` with what these flags add (the socket file's mode).
    func applied(to options: ServerOptions) -> ServerOptions {
        var options = options
        options.unixSocketMode = (try? socketFileMode()) ?? nil
        return options
    }

    /// The socket to serve; for HOST PORT, `host` and `port` resolved (a name that does
    /// not resolve is one line, exit 1).
    func endpoint(host: String, port: Int) throws -> ListenEndpoint {
        if let unix { return .address(try SocketAddress.unix(path: unix)) }
        if let listenFd { return .descriptor(try ListenDescriptor(listenFd).resolve()) }
        return .address(try resolve(host: host, port: port))
    }
}

/// The socket a server serves: one it binds, or one it is handed already listening.
enum ListenEndpoint {
    case address(SocketAddress)
    case descriptor(Int32)

    /// A transport server for it.
    func server(
        group: EventLoopGroup, options: ServerOptions, onAcceptError: @escaping @Sendable (SocketError) -> Void,
        makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) throws(SocketError) -> Server {
        switch self {
        case .address(let address):
            return try Server(
                group: group, address: address, options: options, onAcceptError: onAcceptError, makeHandler: makeHandler)
        case .descriptor(let descriptor):
            return try Server(
                group: group, adoptingListeningDescriptor: descriptor, options: options, onAcceptError: onAcceptError,
                makeHandler: makeHandler)
        }
    }

    /// The one line for a server that could not start here.
    func failure(_ error: SocketError) -> String {
        switch self {
        case .address(let address) where !address.isIP && error.kind == .addressInUse:
            return "cannot listen on \(address): a server is already listening there"
        case .address(let address) where !address.isIP && error.code == EEXIST:
            return "cannot listen on \(address): the path exists and is not a socket (left as it is)"
        case .address(let address):
            return "cannot listen on \(address): \(error.reason)"
        case .descriptor:
            return "cannot serve \(error.operation): \(error.reason)"
        }
    }
}

/// Throws a usage error (exit 64) unless `path`, when given, can name a Unix socket.
func validateUnixPath(_ path: String?) throws {
    guard let path else { return }
    do {
        _ = try SocketAddress.unix(path: path)
    } catch {
        throw ValidationError("--unix: \(error)")
    }
}
