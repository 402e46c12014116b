import ArgumentParser
import Conduit
import Glibc

/// `--backend`: a backend by name, or `auto` (uring where this machine can run it,
/// else shim).
enum BackendChoice: ExpressibleByArgument, Equatable {
    case named(IOBackend)
    case automatic

    init?(argument: String) {
        if argument == "auto" {
            self = .automatic
        } else if let backend = IOBackend(rawValue: argument) {
            self = .named(backend)
        } else {
            return nil
        }
    }

    /// What `--help` lists: `auto`, then each backend.
    static var allValueStrings: [String] { ["auto"] + IOBackend.allCases.map(\.rawValue) }

    var defaultValueDescription: String {
        switch self {
        case .automatic: "auto"
        case .named(let backend): backend.rawValue
        }
    }
}

/// Flags every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .customLong("backend"),
        help: "I/O backend: shim (epoll through the C target), swift (epoll, Glibc called from Swift), uring (io_uring through the C target; Linux 6.1+), or auto (uring where it works, else shim).")
    var choice: BackendChoice = .named(.shim)

    /// The backend to run on (`auto` resolved by the io_uring probe).
    var backend: IOBackend {
        switch choice {
        case .automatic: .automatic
        case .named(let backend): backend
        }
    }

    func validate() throws {
        if choice == .named(.uring), let reason = IOBackend.uringUnavailableReason {
            // Not a usage error: the flag is right, the machine cannot do it. One line.
            throw fail("--backend uring cannot run here (\(reason)); use --backend shim, or auto to pick uring only where it works")
        }
    }

    /// Runs `start` on the chosen backend. A ring the kernel refuses when it starts
    /// (after the probe passed: a seccomp profile that lets only small rings in, say)
    /// falls back to shim with a note under `auto`, and is one line under `uring`.
    func starting<T>(_ start: (IOBackend) throws -> T) throws -> T {
        do {
            return try start(backend)
        } catch let error as SocketError where error.kind != .transportFailed {
            throw fail("cannot start: \(error)")
        } catch let error as SocketError {
            guard choice == .automatic, backend == .uring else {
                throw fail("cannot start the \(backend) backend: \(error); use --backend shim")
            }
            FileHandleOutput.standardError("note: io_uring refused to start (\(error)); using shim")
            return try start(.shim)
        }
    }

    /// A loop group on the chosen backend (see `starting`).
    func makeGroup(threads: Int) throws -> EventLoopGroup {
        try starting { backend in try EventLoopGroup(threads: threads, backend: backend) }
    }

    /// A loop that the calling thread will run, its transport started here (see
    /// `starting`), so a refusal is known before anything is sent.
    func makeLoop() throws -> EventLoop {
        try starting { backend in
            let loop = try EventLoop(backend: backend)
            try loop.prepareToRun()
            return loop
        }
    }
}

/// The tutorial's defaults.
enum Defaults {
    static let host = "127.0.0.1"
    static let port = 65432
}

/// Limits every server takes: timeouts, connection cap, output watermarks.
struct ServerLimitOptions: ParsableArguments {
    @Option(help: "Close a connection after this long with nothing received (0 disables; \(FlagRange.timeout.typed)).")
    var idleTimeout = Seconds(300)
    @Option(help: "Open connections allowed at once (default: this process's open-file limit minus 64); more are told so and closed.")
    var maxConnections: Int?
    @Option(help: "Unsent output per connection above which reading from it pauses, in bytes.")
    var highWatermark = 1 << 20
    @Option(help: "Unsent output below which paused reading resumes, in bytes.")
    var lowWatermark = 256 << 10
    @Option(help: "On SIGINT/SIGTERM/SIGHUP, wait this long for responses in flight to be sent (\(FlagRange.timeout.typed)); a second signal stops at once.")
    var shutdownGrace = Seconds(5)
    @Option(
        help: ArgumentHelp(
            "Bytes all connections together may hold in buffers (incomplete input, unsent output; 1MiB-1TiB, in bytes or with KiB, MiB, GiB, TiB); above it they stop reading until it falls to 3/4, and app-server refuses a message it cannot hold. Default 256MiB.",
            valueName: "bytes"),
        transform: parseByteCount)
    var memoryBudget = 256 << 20

    func validate() throws {
        try memoryBudget.validate("--memory-budget", in: FlagRange.memoryBudget)
        try idleTimeout.validate("--idle-timeout", in: FlagRange.timeout)
        try shutdownGrace.validate("--shutdown-grace", in: FlagRange.timeout)
        guard lowWatermark >= 0, highWatermark > lowWatermark else {
            throw ValidationError("--high-watermark must be above --low-watermark")
        }
        if let max = maxConnections, max < 1 { throw ValidationError("--max-connections must be at least 1") }
    }

    /// Server options for these limits, with the open-file limit already raised.
    var serverOptions: ServerOptions {
        var options = ServerOptions()
        options.idleTimeout = idleTimeout.duration
        options.maxConnections = maxConnections ?? max(1, SystemLimits.raiseOpenFiles() - 64)
        options.backpressure = .pauseReading(above: highWatermark, resumeBelow: lowWatermark)
        options.memoryBudget = memoryBudget
        return options
    }

    /// The same limits as arguments, for worker processes.
    var arguments: [String] {
        var list = [
            "--idle-timeout", "\(idleTimeout.value)s", "--high-watermark", String(highWatermark),
            "--low-watermark", String(lowWatermark), "--shutdown-grace", "\(shutdownGrace.value)s",
            "--memory-budget", String(memoryBudget),
        ]
        if let maxConnections { list += ["--max-connections", String(maxConnections)] }
        return list
    }
}

/// Throws a usage error (exit 64) unless `port` is a TCP port number; servers may
/// take 0 (the kernel picks a free port), clients may not.
func validatePort(_ port: Int, _ name: String, allowZero: Bool = true) throws {
    let lowest = allowZero ? 0 : 1
    guard (lowest...65_535).contains(port) else { throw ValidationError("\(name) must be \(lowest)-65535") }
}
