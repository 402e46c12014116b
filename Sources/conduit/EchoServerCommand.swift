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
        abstract: "Echo server: serve one client, send back everything it sends, exit when it closes.",
        usage: """
            conduit echo-server [<host>] [<port>] [<options>]
            conduit echo-server --unix <path> [<options>]
            conduit echo-server --listen-fd <n|systemd> [<options>]
            """
    )

    @Argument(help: "Address to listen on ('' for all IPv4 interfaces, '::' for all IPv6; default \(Defaults.host)); not with --unix or --listen-fd.")
    var host: String?
    @Argument(help: "Port to listen on (default \(Defaults.port)).") var port: Int?
    @OptionGroup var listen: ListenOptions
    @OptionGroup(title: "TLS") var tlsFlags: TLSServerFlags
    @OptionGroup var common: CommonOptions

    func validate() throws { try listen.validate(host: host, port: port, hostAndPortRequired: false) }

    func run() throws {
        let endpoint = try listen.endpoint(host: host ?? Defaults.host, port: port ?? Defaults.port)
        var options = listen.applied(to: ServerOptions())
        options.tls = try tlsFlags.context()
        let group = try common.makeGroup(threads: 1)
        defer { group.syncShutdown() }
        let done = DispatchSemaphore(value: 0)
        let served = ServedOnce()
        let server: Server
        do {
            server = try endpoint.server(group: group, options: options, onAcceptError: { _ in }) { _ in
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
            throw fail(endpoint.failure(error))
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
