import ArgumentParser
import Conduit

/// `conduit stat`: TCP sockets with state and queue sizes, as the tutorial used netstat.
struct StatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "List TCP sockets: state, Recv-Q, Send-Q, local and remote address (from /proc/net/tcp and tcp6)."
    )

    @Option(help: "Only sockets with this local or remote port.") var port: Int?
    @Option(help: "Only sockets in this state (LISTEN, ESTABLISHED, TIME_WAIT, …).") var state: String?

    func run() throws {
        let entries = SocketTable.read().filter { entry in
            (port.map { entry.localPort == $0 || entry.remotePort == $0 } ?? true)
                && (state.map { entry.state == $0.uppercased() } ?? true)
        }
        say(SocketTable.format(entries))
    }
}
