import Conduit

/// Runs a server the way every server subcommand does: starts it on a new loop group
/// (or exits with one clear line), says `Listening on …`, waits for SIGINT/SIGTERM,
/// then stops gracefully — responses in flight are sent, for at most `graceSeconds`.
func serveUntilSignalled(
    address: SocketAddress, threads: Int, backend: IOBackend, announce: Bool = true, graceSeconds: Double = 5,
    start: (EventLoopGroup) throws(SocketError) -> Server
) throws {
    let group = try EventLoopGroup(threads: max(1, threads), backend: backend)
    let server: Server
    do {
        server = try start(group)
    } catch {
        group.syncShutdown()
        throw fail("cannot listen on \(address): \(error.reason)")
    }
    if announce { say("Listening on \(server.address)") }
    let signal = waitForTermination()
    if announce { say("Caught \(signal), finishing responses in flight and closing") }
    let left = server.syncShutdownGracefully(timeout: .seconds(graceSeconds))
    if left > 0 { FileHandleOutput.standardError("closed \(left) connections that were still sending at the deadline") }
    group.syncShutdown()
}
