import Conduit

/// Runs a server the way every server subcommand does: takes the signals first (see
/// `ServerSignals`), starts it on a new loop group (or exits with one clear line), says
/// `Listening on …` once it accepts, waits for SIGINT/SIGTERM/SIGHUP, then stops
/// gracefully — responses in flight are sent, for at most `graceSeconds`. SIGUSR1 and
/// the exit print the loops' counters, then `moreStatus()` (the application's) if any.
func serveUntilSignalled(
    endpoint: ListenEndpoint, threads: Int, common: CommonOptions, announce: Bool = true, graceSeconds: Double = 5,
    moreStatus: @escaping @Sendable () -> String? = { nil },
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
    if announce { say("Listening on \(server.address)") }
    let signal = signals.wait()
    if announce { say("Caught \(signal), finishing responses in flight and closing") }
    let left = server.syncShutdownGracefully(timeout: .seconds(graceSeconds))
    if left > 0 { FileHandleOutput.standardError("closed \(left) connections that were still sending at the deadline") }
    // What the loops did, for whoever profiles a run (the same line as SIGUSR1's).
    FileHandleOutput.standardError("loops: \(group.syncCounters())" + (moreStatus().map { "; \($0)" } ?? ""))
    group.syncShutdown()
}
