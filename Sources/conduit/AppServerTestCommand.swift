import ArgumentParser
import Conduit

/// `conduit app-server-test`: accepts connections and never reads from them, so the
/// buffers of a client that keeps sending fill up (the tutorial's test server).
struct AppServerTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-server-test",
        abstract: "Test server that accepts connections and never reads them; runs until Ctrl-C or SIGTERM.",
        discussion: "Pair it with app-client-test and watch the queues with 'conduit stat --port PORT'."
    )

    @Argument(help: "Address to listen on ('' for all IPv4 interfaces, '::' for all IPv6).") var host: String
    @Argument(help: "Port to listen on.") var port: Int
    @OptionGroup var common: CommonOptions

    func validate() throws { try validatePort(port, "PORT") }

    func run() throws {
        let address = try resolve(host: host, port: port)
        try serveUntilSignalled(endpoint: .address(address), threads: 1, common: common) { group throws(SocketError) in
            try Server(group: group, address: address) { _ in NeverReadHandler() }
        }
    }
}

/// Logs the connection and stops reading it at once.
final class NeverReadHandler: ConnectionHandler {
    func connectionDidOpen(_ connection: Connection) {
        say("Accepted connection from \(connection.peerDescription) (never reading from it)")
        connection.pauseReading()
    }
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { 0 }
}
