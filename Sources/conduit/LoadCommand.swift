import ArgumentParser
import Conduit
import ConduitLoad
import Foundation

extension Workload: ExpressibleByArgument {}
extension ResponseComparison: ExpressibleByArgument {}

/// `conduit load`: a high-connection-count load generator.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load generator: many connections, closed or open loop, latency percentiles.",
        discussion: """
            Any TCP service: --framing says how its answers are cut into messages (resp,
            line, crlf, length:4, fixed:N, close, …), --request what to send (with fields
            such as {key:1-100000}), --expect what each answer must be; --scenario FILE
            gives weighted request kinds. --requests-per-connection N closes and reopens
            each connection after N answers.

            With no --target (or --unix), an app server is started in this process on a
            free loopback port (with --embedded-unix, on a Unix socket in a fresh
            temporary directory) and loaded: a real result with no set-up. Every response
            is checked against the one correct answer to its own request (byte for byte,
            or by meaning with --compare semantic); a wrong, short or missing answer is an
            error, never a success. Exits 1 if any error occurred; with --threshold,
            99 if a threshold was crossed.

            Ctrl-C ends the run early, like wrk: responses in flight are waited for
            (--drain), then the report is printed and the output files written for the
            run so far, with the usual exit status (0, or 1 if any error). A second
            Ctrl-C quits at once (130).

            'conduit load merge FILES' combines the --json files of several instances
            (see --segment and --start-at) into one report.
            """,
        subcommands: [LoadMergeCommand.self]
    )

    @Option(help: "Server to load, HOST:PORT or [IPv6]:PORT (default: an embedded server).", transform: HostPort.parse)
    var target: HostPort?
    @Option(help: ArgumentHelp("Load the server listening on the Unix domain socket at PATH (instead of --target).", valueName: "path"))
    var unix: String?
    @Flag(help: "Put the embedded server on a Unix domain socket in a fresh temporary directory instead of a loopback port.")
    var embeddedUnix = false
    @Option(help: "Concurrent connections, \(FlagRange.connections.typed) (k and m suffixes accepted).")
    var connections = Count(50)
    @Option(help: "New connections per second, \(FlagRange.rate.typed), with start jitter (default: all at once).")
    var connectRate: Count?
    @Option(help: "How long to send: 10s, 2m, 500ms (\(FlagRange.duration.typed)).") var duration = Seconds(5)
    @Option(help: "search (app-server), binary (app-server) or echo (multiconn-server).") var workload: Workload = .search
    @Option(help: "Payload bytes for binary and echo (\(FlagRange.payload.typed)).") var size = 64
    @Option(
        help: """
            How a response counts as correct: exact (byte for byte against our server's encoding; \
            fastest) or semantic (any valid encoding of the same answer: JSON compared as data, key \
            order, spacing and byte order free; binary content byte for byte). Echo is always exact.
            """)
    var compare: ResponseComparison = .exact
    @Option(help: "Requests in flight per connection (closed loop), or the cap on them (open loop); \(FlagRange.pipeline.typed).")
    var pipeline = 1
    @Option(help: "Open-loop rate in requests/s in total, \(FlagRange.rate.typed) (k and m suffixes accepted); latency is then corrected for coordinated omission.")
    var rate: Count?
    @Option(help: "Event loop threads for the connections (\(FlagRange.threads.typed)).") var threads = 1
    @Option(help: "Event loop threads for the embedded server (\(FlagRange.threads.typed)).") var serverThreads = 1
    @Option(help: "Bind connections to 127.0.0.1 … 127.0.0.N, for more ephemeral ports (1-254).") var sourceAddresses = 1
    @Option(
        help: ArgumentHelp(
            "Run only share I of N (0-based) of the test, for running it on N hosts: --connections, --rate, --connect-rate and (when at least N) --source-addresses are split so that the N shares add up to the whole exactly.",
            valueName: "I/N"),
        transform: parseSegment)
    var segment: LoadSegment?
    @Option(
        help: ArgumentHelp(
            "Open the connections first, then start sending at this instant, given as Unix seconds or RFC 3339 UTC (2026-11-26T13:00:00Z); give every instance the same. The report says how far from it this one started.",
            valueName: "time"),
        transform: parseStartAt)
    var startAt: Double?
    @Option(help: .hidden) var sourceAddressOffset = 0
    @Option(help: "Wait this long after --duration for responses in flight (\(FlagRange.timeout.typed)).") var drain = Seconds(2)
    @OptionGroup(title: "Any TCP service") var custom: LoadScenarioOptions
    @OptionGroup var output: LoadOutputFiles
    @OptionGroup(title: "Pass or fail") var gate: LoadThresholdOptions
    @OptionGroup(title: "TLS") var tlsFlags: TLSClientFlags
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Flag(
        help: """
            Also print what the event loops did, the load's and the embedded server's: wake-ups and events per \
            wake-up, receive and send calls, would-blocks, partial sends, backpressure pauses.
            """)
    var stats = false
    @Option(help: "Spread the connections over this many processes, \(FlagRange.processes.typed) (each may open 20,000 files); without --target the embedded server gets as many.")
    var processes = 1
    @Flag(help: .hidden) var workerOutput = false
    @OptionGroup var common: CommonOptions

    /// Every bad value or combination is a usage error (exit 64), found before any
    /// work starts.
    func validate() throws {
        // The ranges first: `options()` converts these values, which must not trap.
        try connections.validate("--connections", in: FlagRange.connections)
        try connectRate?.validate("--connect-rate", in: rateRange)
        try duration.validate("--duration", in: FlagRange.duration)
        try size.validate("--size", in: FlagRange.payload)
        try pipeline.validate("--pipeline", in: FlagRange.pipeline)
        try rate?.validate("--rate", in: rateRange)
        try threads.validate("--threads", in: FlagRange.threads)
        try serverThreads.validate("--server-threads", in: FlagRange.threads)
        try drain.validate("--drain", in: FlagRange.timeout)
        try processes.validate("--processes", in: FlagRange.processes)
        if let segment, segment.share(of: connections.intValue) < 1 {
            throw ValidationError("--segment \(segment) gets no connections of --connections \(connections.intValue); give at least \(segment.count)")
        }
        if let startAt, abs(startAt - WallClock.now()) > 86_400 {
            throw ValidationError(
                "--start-at \(WallClock.format(startAt)) is more than a day \(startAt > WallClock.now() ? "away" : "ago"); is the clock or the time right?")
        }
        if let target { try validatePort(target.port, "--target port", allowZero: false) }
        if target != nil && unix != nil { throw ValidationError("--target and --unix both name the server; give one") }
        try validateUnixPath(unix)
        if tlsFlags.enabled && target == nil && unix == nil {
            if !Set(tlsFlags.arguments).isSubset(of: ["--tls", "--no-tls-resume"]) {
                throw ValidationError("the embedded server's certificate is made for the run and trusted as it is: give --tls alone, or --target")
            }
            if processes > 1 {
                throw ValidationError("--tls with --processes needs --target: start 'conduit app-server HOST PORT --processes N --tls-cert FILE --tls-key FILE' and load it")
            }
        }
        if embeddedUnix && (target != nil || unix != nil) {
            throw ValidationError("--embedded-unix is for the embedded server; not with --target or --unix")
        }
        _ = try custom.build()
        var options = options()
        // A numeric target is resolved here so that the address family can be checked; a
        // name that does not resolve is left for `run`, which says so (exit 1).
        if let target { options.target = try? SocketAddress.resolve(host: target.host, port: target.port) }
        if let unix { options.target = try? SocketAddress.unix(path: unix) }
        if let problem = options.problem() {
            // A scenario made of --request or --request-file is named by that flag.
            let option = problem.option == "scenario" && custom.scenario == nil
                ? (custom.request != nil ? "request" : "requestFile") : problem.option
            throw ValidationError("--\(Self.flagName(option)) \(problem.requirement)")
        }
        guard processes <= options.connections else {
            throw ValidationError("--processes \(processes) needs at least as many --connections (one per process)")
        }
        if embeddedUnix && processes > 1 {
            // The embedded servers of --processes share a TCP port (SO_REUSEPORT).
            throw ValidationError(
                "--embedded-unix runs the embedded server in this process; with --processes, start 'conduit app-server --unix PATH --threads N' and load it with --unix PATH")
        }
    }

    /// `--rate` and `--connect-rate`. A worker process of `--processes` is given its
    /// share of the total, which may be below the least total rate (by at most the
    /// number of connections); the arithmetic is safe there too, as every worker's
    /// schedule is the same as one process's would be.
    var rateRange: ClosedRange<Count> {
        guard workerOutput else { return FlagRange.rate }
        return Count(FlagRange.rate.lowerBound.value / FlagRange.connections.upperBound.value)...FlagRange.rate.upperBound
    }

    /// The options as given, without the target (resolving it may need the network).
    func options() -> LoadOptions {
        var options = LoadOptions()
        options.connections = connections.intValue
        options.connectRate = connectRate?.value
        options.duration = duration.duration
        options.workload = workload
        options.size = size
        options.compare = compare
        options.pipeline = pipeline
        options.rate = rate?.value
        options.threads = threads
        options.serverThreads = serverThreads
        options.sourceAddresses = sourceAddresses
        options.drain = drain.duration
        options.backend = common.backend
        options.progress = !quiet
        options.embeddedUnixSocket = embeddedUnix
        options.sourceAddressOffset = sourceAddressOffset
        options.startAt = startAt
        // Errors in these are reported by `validate`, which builds it first.
        options.scenario = (try? custom.build()) ?? nil
        options.requestsPerConnection = custom.requestsPerConnection
            ?? (options.scenario?.answerEndsAtClose == true ? 1 : nil)
        return segment.map { $0.options(of: options) } ?? options
    }

    func run() throws {
        var options = options()
        if let target { options.target = try resolve(host: target.host, port: target.port) }
        if let unix { options.target = try SocketAddress.unix(path: unix) }
        if tlsFlags.enabled && options.target == nil {
            (options.embeddedServerTLS, options.tls) = try embeddedTLS()
        } else {
            options.tls = try tlsFlags.context(host: target?.host ?? "", warn: !workerOutput)
        }
        try output.checkWritable()
        if processes > 1 { return try runWorkers(options) }
        try checkSystemLimits(options)
        if workerOutput { return try runAsWorker(options) }

        if let startAt = options.startAt, startAt < WallClock.now() {
            FileHandleOutput.standardError(
                "note: --start-at \(WallClock.format(startAt)) has passed: starting as soon as the connections are up (the report says how late)")
        }
        let result = try common.starting { backend in
            var options = options
            options.backend = backend
            let total = options.connections
            let generator = LoadGenerator(options: options) { interval, totals in
                FileHandleOutput.standardError(LoadReport.progressLine(interval, totals: totals, connections: total))
            }
            let interrupt = Self.stopOnInterrupt { [generator] in generator.stop() }
            defer { interrupt.cancel() }
            do {
                return try generator.run()
            } catch let error as SocketError where error.kind == .transportFailed {
                throw error
            } catch {
                throw fail("cannot start the load: \(error)")
            }
        }
        try finish(result)
    }

    /// Like wrk: the first Ctrl-C (or SIGTERM, SIGHUP) calls `stop` (the run ends early
    /// and is reported and written as usual, so a long run is never lost); a second one
    /// exits at once (128 + the signal: 130 for Ctrl-C).
    static func stopOnInterrupt(_ stop: @escaping @Sendable () -> Void) -> SignalEvents {
        SignalEvents(SignalEvents.termination) { number, count in
            if count == 1 {
                FileHandleOutput.standardError(
                    "interrupted: stopping the run and waiting for responses in flight (Ctrl-C again to quit without a report)")
                stop()
            } else {
                FileHandleOutput.standardError("conduit: interrupted again; exiting without a report")
                _exit(128 + number)
            }
        }
    }

    /// Prints the report, writes the files, and fails if anything went wrong.
    func finish(_ result: LoadResult) throws {
        var result = result
        // Judged here, on the whole: with --processes the parts come from the workers.
        gate.judge(&result)
        say(LoadReport.text(result))
        if stats {
            let requests = max(result.stats.requests, 1)
            for (who, counted) in [("load loops", result.clientLoops), ("server loops", result.serverLoops)] {
                guard let counted else { continue }
                say("\(who): \(counted)")
                say("\(who) per request: \(Self.perRequest(counted.receiveCalls, requests)) receives, "
                    + "\(Self.perRequest(counted.sendCalls, requests)) sends, \(Self.perRequest(counted.wakeUps, requests)) wake-ups")
            }
        }
        if result.stats.errors[LoadErrors.noFreeLocalPort] != nil {
            FileHandleOutput.standardError(
                "hint: no free local ports: use --source-addresses N or widen net.ipv4.ip_local_port_range")
        }
        if result.stats.errors[LoadErrors.outOfDescriptors] != nil {
            FileHandleOutput.standardError("hint: out of file descriptors: raise ulimit -n or use --processes N")
        }
        if result.stats.errors[LoadErrors.acceptQueueFull] != nil {
            FileHandleOutput.standardError(
                "hint: the server's accept queue was full and a Unix connect is not retried: use --connect-rate, or raise the backlog (net.core.somaxconn)")
        }
        if let answer = result.stats.firstWrongAnswer {
            FileHandleOutput.standardError(
                "hint: " + WrongAnswerHint.hint(answer, workload: result.workload, comparison: result.compare))
        }
        try output.write(result)
        if result.stats.connectionsUp == 0, result.stats.errors[LoadErrors.connectRefused] != nil {
            throw fail("connection refused: is a server listening on \(result.target)?")
        }
        if result.stats.connectionsUp == 0, result.stats.errors[LoadErrors.noSocket] != nil {
            throw fail("no socket at \(result.target): is a server listening there?")
        }
        // A run that measured nothing, or less than it was asked to, is not a result.
        if result.stats.requests == 0 {
            throw fail(
                "no request completed (\(result.stats.connectionsUp) of \(result.connections) connections established)")
        }
        if result.stats.connectionsUp < result.connections {
            throw fail("only \(result.stats.connectionsUp) of \(result.connections) connections were established")
        }
        try gate.exit(for: result)
    }

    static func perRequest(_ count: Int, _ requests: Int) -> String {
        String(format: "%.2f", Double(count) / Double(requests))
    }

    /// Says which system limit would stop this run, and how to raise it, before starting.
    func checkSystemLimits(_ options: LoadOptions, embeddedElsewhere: Bool = false) throws {
        let openFiles = SystemLimits.raiseOpenFiles()
        let perConnection = options.target == nil && !embeddedElsewhere ? 2 : 1
        let needed = (options.connections + processes - 1) / processes * perConnection + 64
        if needed > openFiles {
            let side = options.target == nil ? " (client and embedded server sockets)" : ""
            throw fail(
                "\(options.connections) connections need about \(needed) open files per process\(side) with --processes \(processes), but a process may open \(openFiles) (RLIMIT_NOFILE hard limit). Use --processes N to spread them over processes, or raise the hard limit (ulimit -Hn; /etc/security/limits.conf)."
            )
        }
        let backlog = SystemLimits.somaxconn()
        let unix = options.embeddedUnixSocket || options.target.map { !$0.isIP } ?? false
        if options.connectRate == nil && options.connections > (unix ? backlog : 4 * backlog) {
            let overflow = unix ? "refused Unix connects are then tried again, for up to 100 ms each time" : "SYN retries then add seconds"
            FileHandleOutput.standardError(
                "note: net.core.somaxconn is \(backlog); opening \(options.connections) connections at once can overflow the server's accept queue (\(overflow)). Use --connect-rate, or raise it: sysctl -w net.core.somaxconn=65535")
        }
        // Both sides' user memory plus the kernel's minimum socket buffers, per connection,
        // and the requests a connection may have queued (all of --pipeline when the server
        // does not keep up); the embedded server may hold one whole request as it reads it.
        // Within the flags' ranges this is at most about 1.7e17, far inside an Int.
        let requestBytes = options.size + 128  // the payload and, for the app server, its headers
        let bytesPerConnection = (options.target == nil ? 2 : 1) * 12 * 1024 + options.pipeline * requestBytes
            + (options.target == nil ? requestBytes : 0)
        if let available = SystemLimits.availableMemory(), options.connections * bytesPerConnection > available {
            throw fail(
                "\(options.connections) connections need about \(options.connections * bytesPerConnection >> 20) MiB but only \(available >> 20) MiB of memory is available (MemAvailable). Use fewer connections, a smaller --pipeline or --size, or free memory.")
        }
        // A Unix socket has no ports to run out of.
        if unix { return }
        let ports = SystemLimits.ephemeralPorts()
        let perAddress = options.connections / options.sourceAddresses
        if perAddress > 10_000 && options.target.map({ $0.host.hasPrefix("127.") }) ?? true {
            // Measured here: 24,000 connections took 5.3 s to connect from one source
            // address and 0.7 s from five, as the kernel's free-port search slows down.
            FileHandleOutput.standardError(
                "note: \(perAddress) connections per source address make connect() slow as ephemeral ports run out; --source-addresses \((options.connections + 4_999) / 5_000) is faster")
        }
        let perSource = (options.connections + options.sourceAddresses - 1) / options.sourceAddresses
        if perSource > ports {
            throw fail(
                "\(options.connections) connections from \(options.sourceAddresses) source address(es) need \(perSource) ephemeral ports each, but net.ipv4.ip_local_port_range has \(ports). Use --source-addresses \((options.connections + ports - 1) / ports) or more, or widen the range (sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\")."
            )
        }
    }
}

extension LoadCommand {
    /// The flag for a `LoadOptions` property: `connectRate` → `connect-rate`.
    static func flagName(_ property: String) -> String {
        property.reduce(into: "") { name, character in
            if character.isUppercase { name += "-" + character.lowercased() } else { name.append(character) }
        }
    }
}

extension LoadCommand {
    /// `--tls` against the embedded server: a certificate made for this run, and a
    /// client that trusts exactly it (and checks the name localhost).
    func embeddedTLS() throws -> (server: TLSContext, client: TLSContext) {
        do {
            let server = try TLSContext(.selfSignedServer())
            var configuration = TLSConfiguration.client(
                serverName: "localhost", trust: .certificates(.bytes(server.selfSignedCertificate ?? [])))
            configuration.resumesSessions = !tlsFlags.noTlsResume
            let client = try TLSContext(configuration)
            return (server, client)
        } catch {
            throw fail("TLS: \(error)")
        }
    }
}
