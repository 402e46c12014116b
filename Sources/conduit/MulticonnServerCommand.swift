import ArgumentParser
import Conduit
import ConduitApp
import ConduitTutorial
import Dispatch
import Glibc
import Synchronization

/// `conduit multiconn-server`: echoes for any number of clients until interrupted.
struct MulticonnServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multiconn-server",
        abstract: "Multi-connection echo server on a non-blocking event loop; runs until Ctrl-C or SIGTERM."
    )

    @Argument(help: "Address to listen on ('' for all interfaces).") var host: String
    @Argument(help: "Port to listen on.") var port: Int
    @Option(help: "Event loop threads (\(FlagRange.threads.typed)).") var threads = 1
    @Flag(help: "Log only listening and shutdown, not every connection and echo.") var quiet = false
    @OptionGroup var serverLimits: ServerLimitOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validatePort(port, "PORT")
        try threads.validate("--threads", in: FlagRange.threads)
    }

    func run() throws {
        let address = try resolve(host: host, port: port)
        let quiet = self.quiet
        let options = serverLimits.serverOptions
        try serveUntilSignalled(
            address: address, threads: threads, backend: common.backend, graceSeconds: serverLimits.shutdownGrace.value
        ) { group throws(SocketError) in
            try Server(
                group: group, address: address, options: options,
                onAcceptError: { error in FileHandleOutput.standardError("accept failed: \(error)") }
            ) { _ in
                EchoHandler(log: quiet ? nil : { event in
                    switch event {
                    case .accepted(let peer): say("Accepted connection from \(peer)")
                    case .echoing(let bytes, let peer):
                        say("Echoing \(bytesLiteral(bytes, limit: 200)) to \(peer)")
                    case .closed(let peer, let error):
                        let why = error.map { " (\($0.reason))" } ?? ""
                        say("Closing connection to \(peer)\(why)")
                    }
                })
            }
        }
    }
}
