import ArgumentParser
import Conduit
import ConduitApp
import ConduitTutorial

/// `conduit echo-client`: sends one message and prints the whole echo.
struct EchoClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-client",
        abstract: "Echo client: send a message, read until all of it is echoed, print it.",
        usage: """
            conduit echo-client [<host>] [<port>] [<message>] [<options>]
            conduit echo-client --unix <path> [<message>] [<options>]
            """
    )

    @Argument(help: ArgumentHelp(
        "Server address (default \(Defaults.host)) and port (default \(Defaults.port)), left out with --unix; then the message to send (default 'Hello, world').",
        valueName: "host port message"))
    var words: [String] = []
    @Option(help: ArgumentHelp("Connect to the server's Unix domain socket at PATH instead of HOST PORT.", valueName: "path"))
    var unix: String?
    @OptionGroup(title: "TLS") var tlsFlags: TLSClientFlags
    @OptionGroup var common: CommonOptions

    /// [HOST [PORT [MESSAGE]]], or --unix PATH [MESSAGE].
    func target() throws -> ClientTarget {
        try ClientTarget(words: words, unix: unix, own: 0...1, names: "[MESSAGE]", hostAndPortRequired: false)
    }

    func validate() throws { _ = try target() }

    func run() throws {
        let target = try target()
        let message = target.rest.first ?? "Hello, world"
        let address = try target.address()
        let tls = try tlsFlags.context(host: target.host ?? Defaults.host)
        let loop = try common.makeLoop()
        let exchange = EchoExchange(messages: [Array(message.utf8)]) { _, event in
            if case .closed = event { loop.stop() }
        }
        _ = try Connection.connect(to: address, on: loop, options: ConnectOptions(tls: tls), handler: exchange)
        loop.run()
        switch exchange.failure {
        case nil:
            say("Received \(bytesLiteral(exchange.received))")
        case .connect(let error):
            throw fail(connectFailure(error, to: address))
        case let failure?:
            throw fail(failure.description)
        }
    }
}
