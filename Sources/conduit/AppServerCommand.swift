import ArgumentParser
import Conduit
import ConduitApp
import Dispatch
import Glibc
import Synchronization

/// `conduit app-server`: the application server of the tutorial, persistent and fast.
struct AppServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-server",
        abstract: "Application server: custom-header messages, search and binary service; runs until Ctrl-C or SIGTERM.",
        usage: """
            conduit app-server <host> <port> [<options>]
            conduit app-server --unix <path> [<options>]
            conduit app-server --listen-fd <n|systemd> [<options>]
            """
    )

    @Argument(help: "Address to listen on ('' for all IPv4 interfaces, '::' for all IPv6); not with --unix or --listen-fd.") var host: String?
    @Argument(help: "Port to listen on (0 picks a free one).") var port: Int?
    @OptionGroup var listen: ListenOptions
    @Option(help: "Event loop threads (\(FlagRange.threads.typed)).") var threads = 1
    @Option(help: "Worker processes sharing the port with SO_REUSEPORT, \(FlagRange.processes.typed) (each may open 20,000 files); TCP only.")
    var processes = 1
    @Option(help: "Close a connection whose request header is not complete within this long (0 disables; \(FlagRange.timeout.typed)).")
    var headerTimeout = Seconds(10)
    @Option(help: "Close a connection whose request (header and content) is not complete within this long of its start (0 disables; \(FlagRange.timeout.typed)).")
    var messageTimeout = Seconds(60)
    @OptionGroup var serverLimits: ServerLimitOptions
    @OptionGroup(title: "TLS") var tlsFlags: TLSServerFlags
    @Flag(help: .hidden) var worker = false
    /// The embedded server of `load --processes`: its workers keep their counters to
    /// themselves at exit, so a quiet load prints only its report.
    @Flag(help: .hidden) var noCountersAtExit = false
    @OptionGroup var limits: LimitOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try listen.validate(host: host, port: port, hostAndPortRequired: true)
        try threads.validate("--threads", in: FlagRange.threads)
        try processes.validate("--processes", in: FlagRange.processes)
        if processes > 1, let flag = listen.replacingFlag {
            // SO_REUSEPORT shares a TCP port between processes; a Unix path or a handed-over
            // socket is one socket, which the loops of one process share (--threads).
            throw ValidationError("--processes shares a TCP port; with \(flag) use --threads")
        }
        try headerTimeout.validate("--header-timeout", in: FlagRange.timeout)
        try messageTimeout.validate("--message-timeout", in: FlagRange.timeout)
    }

    func run() throws {
        SystemLimits.raiseOpenFiles()
        // A worker, or the embedded server of `load --processes`, must not outlive the
        // conduit that started it.
        if worker || WorkerProcesses.startedByConduit { stopWhenParentExits() }
        if processes > 1 { return try runWorkers() }
        let endpoint = try listen.endpoint(host: host ?? "", port: port ?? 0)
        var options = listen.applied(to: serverLimits.serverOptions)
        let tls = try tlsFlags.served()
        options.tls = tls?.context
        // Workers share the port with their siblings.
        if worker { options.reusePort = true }
        let limits = self.limits.limits
        let headerTimeout = self.headerTimeout.duration
        let messageTimeout = self.messageTimeout.duration
        let log = logging.log
        let started = Locked<AppServer?>(nil)
        // A worker announces too: its `Listening on` line, on the pipe its parent reads,
        // is how the parent learns it is ready.
        try serveUntilSignalled(
            endpoint: endpoint, threads: threads, common: common,
            graceSeconds: serverLimits.shutdownGrace.value, countersAtExit: !noCountersAtExit, tls: tls,
            moreStatus: { started.withLock { $0 }.map { "app: \($0.syncCounters())" } }
        ) { group throws(SocketError) in
            let server: AppServer
            switch endpoint {
            case .address(let address):
                server = try AppServer(
                    group: group, address: address, limits: limits, options: options,
                    headerTimeout: headerTimeout, messageTimeout: messageTimeout, log: log)
            case .descriptor(let descriptor):
                server = try AppServer(
                    group: group, adoptingListeningDescriptor: descriptor, limits: limits, options: options,
                    headerTimeout: headerTimeout, messageTimeout: messageTimeout, log: log)
            }
            started.withLock { $0 = server }
            return server.server
        }
    }
}

extension AppServerCommand {
    /// Starts `processes` copies of this server on one port (`SO_REUSEPORT`), prints
    /// one `Listening on` line once every one of them listens, and stops them on
    /// SIGINT/SIGTERM. A port that cannot be had fails at once, before any worker starts.
    func runWorkers() throws {
        // Only HOST PORT reach here: validate() refuses --processes with the other two.
        guard let host, let port else { return }
        // The files are checked here, once, before any worker starts.
        let tls = try tlsFlags.served()
        let address = try resolve(host: host, port: port)
        let chosenPort: Int
        let reservation: Int32
        do {
            (chosenPort, reservation) = try reservePort(address)
        } catch {
            throw fail("cannot listen on \(address): \(error.reason)")
        }
        defer { close(reservation) }
        let shown = try resolve(host: host, port: chosenPort)
        let arguments = [
            "app-server", host, String(chosenPort), "--worker", "--threads", String(threads),
            "--log-level", logging.logLevel.rawValue, "--backend", common.backend.rawValue,
            "--header-timeout", "\(headerTimeout.value)s", "--message-timeout", "\(messageTimeout.value)s",
        ] + limits.arguments + serverLimits.arguments + tlsFlags.arguments
            + (noCountersAtExit ? ["--no-counters-at-exit"] : [])
        // Woken by SIGINT/SIGTERM/SIGHUP or by any worker ending.
        let wake = DispatchSemaphore(value: 0)
        let signals = ServerSignals(wake: wake)
        let readiness = WorkerReadiness()
        let workers = try WorkerProcesses(
            arguments: Array(repeating: arguments, count: processes),
            onLine: { _, line in readiness.read(line) },
            onExit: {
                wake.signal()
                readiness.workerExited()
            })
        signals.onStatus { [processes] in
            workers.signalAll(SIGUSR1)
            return "\(processes) worker processes on \(shown); each reports its own status"
        }
        if tls != nil {
            signals.onReload {
                workers.signalAll(SIGUSR2)
                return "asked the worker processes to reload the TLS certificate and key"
            }
        }
        // Each worker takes a second SIGTERM as "exit now" too.
        signals.onForcedExit { workers.signalAll(SIGTERM) }
        guard readiness.wait(for: processes, workers: workers) else {
            workers.signalAll(SIGTERM)
            workers.waitAll()
            throw fail("the worker processes did not start listening on \(shown) (see their errors above)")
        }
        say("Listening on \(shown) (\(processes) processes)")
        if let tls { say(tls.announcement) }
        // The workers were given the backend auto chose here, by name.
        if common.choice == .automatic { say("Backend: \(common.backend) (chosen by --backend auto)") }
        while true {
            wake.wait()
            if let signal = signals.caught {
                say("Caught \(signal), stopping \(processes) worker processes")
                workers.signalAll(SIGTERM)
                if !workers.waitAll() { throw ExitCode.failure }
                return
            }
            // A worker died while serving: stop, rather than stay up with fewer or none,
            // so that whoever runs us sees it and can start us again.
            if let (pid, how) = workers.firstExited {
                workers.signalAll(SIGTERM)
                workers.waitAll()
                throw fail("worker process \(pid) ended \(how); stopped the other workers")
            }
        }
    }
}
