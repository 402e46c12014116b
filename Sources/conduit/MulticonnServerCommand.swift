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
        abstract: "Multi-connection echo server on a non-blocking event loop; runs until Ctrl-C or SIGTERM.",
        usage: """
            conduit multiconn-server <host> <port> [<options>]
            conduit multiconn-server --unix <path> [<options>]
            conduit multiconn-server --listen-fd <n|systemd> [<options>]
            """
    )

    @Argument(help: "Address to listen on ('' for all IPv4 interfaces, '::' for all IPv6); not with --unix or --listen-fd.") var host: String?
    @Argument(help: "Port to listen on.") var port: Int?
    @OptionGroup var listen: ListenOptions
    @Option(help: "Event loop threads (\(FlagRange.threads.typed)).") var threads = 1
    @Flag(help: "Log only listening and shutdown, not every connection and echo.") var quiet = false
    @OptionGroup var serverLimits: ServerLimitOptions
    @OptionGroup(title: "TLS") var tlsFlags: TLSServerFlags
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try listen.validate(host: host, port: port, hostAndPortRequired: true)
        try threads.validate("--threads", in: FlagRange.threads)
    }

    func run() throws {
        let endpoint = try listen.endpoint(host: host ?? "", port: port ?? 0)
        let quiet = self.quiet
        var options = listen.applied(to: serverLimits.serverOptions)
        let tls = try tlsFlags.served()
        options.tls = tls?.context
        try serveUntilSignalled(
            endpoint: endpoint, threads: threads, common: common, graceSeconds: serverLimits.shutdownGrace.value, tls: tls
        ) { group throws(SocketError) in
            try endpoint.server(
                group: group, options: options,
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
