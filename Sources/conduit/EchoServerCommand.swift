import ArgumentParser
import Conduit
import ConduitApp
import ConduitTutorial
import Dispatch
import Synchronization

/// `conduit echo-server`: serves one client, echoing everything, then exits.
struct EchoServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "Echo server: serve one client, send back everything it sends, exit when it closes."
    )

    @Argument(help: "Address to listen on ('' for all interfaces).") var host = Defaults.host
    @Argument(help: "Port to listen on.") var port = Defaults.port
    @OptionGroup var common: CommonOptions

    func validate() throws { try validatePort(port, "PORT") }

    func run() throws {
        let address = try resolve(host: host, port: port)
        let group = try EventLoopGroup(threads: 1, backend: common.backend)
        defer { group.syncShutdown() }
        let done = DispatchSemaphore(value: 0)
        let served = ServedOnce()
        let server: Server
        do {
            server = try Server(group: group, address: address) { _ in
                guard served.claim() else { return RejectHandler() }
                return EchoHandler { event in
                    switch event {
                    case .accepted(let peer): say("Connected by \(peer)")
                    case .echoing: break
                    case .closed: done.signal()
                    }
                }
            }
        } catch {
            throw fail("cannot listen on \(address): \(error.reason)")
        }
        done.wait()
        server.syncStopAccepting()
    }
}

/// Lets exactly one connection through (the tutorial's server accepts once).
final class ServedOnce: Sendable {
    private let taken = Atomic<Bool>(false)
    /// True the first time only.
    func claim() -> Bool { !taken.exchange(true, ordering: .relaxed) }
}

/// Closes a connection at once: for clients beyond the one the echo server serves.
final class RejectHandler: ConnectionHandler {
    func connectionDidOpen(_ connection: Connection) { connection.close() }
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
}
