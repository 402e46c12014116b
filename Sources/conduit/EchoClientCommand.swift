import ArgumentParser
import Conduit
import ConduitApp
import ConduitTutorial

/// `conduit echo-client`: sends one message and prints the whole echo.
struct EchoClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-client",
        abstract: "Echo client: send a message, read until all of it is echoed, print it."
    )

    @Argument(help: "Server address.") var host = Defaults.host
    @Argument(help: "Server port.") var port = Defaults.port
    @Argument(help: "Message to send.") var message = "Hello, world"
    @OptionGroup var common: CommonOptions

    func validate() throws { try validatePort(port, "PORT", allowZero: false) }

    func run() throws {
        let address = try resolve(host: host, port: port)
        let loop = try EventLoop(backend: common.backend)
        let exchange = EchoExchange(messages: [Array(message.utf8)]) { _, event in
            if case .closed = event { loop.stop() }
        }
        _ = try Connection.connect(to: address, on: loop, handler: exchange)
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
