import Conduit

/// Runs a server the way every server subcommand does: takes the signals first (see
/// `ServerSignals`), starts it on a new loop group (or exits with one clear line), says
/// `Listening on …` once it accepts, waits for SIGINT/SIGTERM/SIGHUP, then stops
/// gracefully — responses in flight are sent, for at most `graceSeconds`. SIGUSR1 and
/// the exit (unless `countersAtExit` is false) print the loops' counters, then
/// `moreStatus()` (the application's) if any.
func serveUntilSignalled(
    endpoint: ListenEndpoint, threads: Int, common: CommonOptions, announce: Bool = true, graceSeconds: Double = 5,
    countersAtExit: Bool = true,
    tls: ServedTLS? = nil, moreStatus: @escaping @Sendable () -> String? = { nil },
    start: (EventLoopGroup) throws(SocketError) -> Server
) throws {
    // Before anything starts: a signal from here on waits for `wait()` instead of
    // killing a half-started server or being lost.
    let signals = ServerSignals()
    let group = try common.makeGroup(threads: max(1, threads))
    let server: Server
    do {
        server = try start(group)
    } catch {
        group.syncShutdown()
        throw fail(endpoint.failure(error))
    }
    signals.onStatus {
        // The signal thread may wait: it is ours, and the loops answer at once.
        let counted = group.syncCounters()
        return "listening on \(server.address), \(server.openConnections) connections open, "
            + "\(server.bufferedBytes) bytes buffered; since start: \(counted)"
            + (moreStatus().map { "; \($0)" } ?? "")
    }
    if let tls {
        signals.onReload { tls.reload() }
    }
    if announce {
        say("Listening on \(server.address)")
        if let tls { say(tls.announcement) }
        // A named backend is what was asked for; `auto` says what it chose.
        if common.choice == .automatic { say("Backend: \(group.backend) (chosen by --backend auto)") }
    }
    let signal = signals.wait()
    if announce { say("Caught \(signal), finishing responses in flight and closing") }
    let left = server.syncShutdownGracefully(timeout: .seconds(graceSeconds))
    if left > 0 { FileHandleOutput.standardError("closed \(left) connections that were still sending at the deadline") }
    // What the loops did, for whoever profiles a run (the same line as SIGUSR1's).
    if countersAtExit {
        FileHandleOutput.standardError("loops: \(group.syncCounters())" + (moreStatus().map { "; \($0)" } ?? ""))
    }
    group.syncShutdown()
}

/// A server's TLS as the command line set it up: the context its connections use, and
/// the flags it came from (for the startup line and SIGUSR2's reload).
struct ServedTLS: Sendable {
    let context: TLSContext
    let announcement: String

    /// Reads the certificate and key again; the line that says how it went.
    func reload() -> String {
        do {
            try context.reload()
            return "reloaded the TLS certificate and key; new connections use them"
        } catch {
            return "TLS reload failed, still serving the previous certificate: \(error)"
        }
    }
}

extension TLSServerFlags {
    /// The context and startup line for these flags (nil for plain TCP); one clear line
    /// and exit 1 when a file cannot be used.
    func served() throws -> ServedTLS? {
        guard let context = try context() else { return nil }
        return ServedTLS(context: context, announcement: announcement(context))
    }
}
