import ArgumentParser
import Conduit
import ConduitTutorial
import ConduitApp
import ConduitMessage

/// `conduit app-client`: sends the tutorial's request and prints the answer.
struct AppClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-client",
        abstract: "Application client: send ACTION VALUE (search, or anything else as binary), print the response."
    )

    @Argument(help: "Server address.") var host: String
    @Argument(help: "Server port.") var port: Int
    @Argument(help: "Action: 'search' sends JSON; any other action is sent as binary.") var action: String
    @Argument(help: "Value to search for (or to append to a binary request).") var value: String
    @Option(name: .customLong("repeat"), help: "Send the request this many times on one connection.") var count = 1
    @Option(help: "Requests in flight at once (pipelining).") var pipeline = 1
    @OptionGroup var limits: LimitOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validatePort(port, "PORT", allowZero: false)
        guard count >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard pipeline >= 1 else { throw ValidationError("--pipeline must be at least 1") }
    }

    func run() throws {
        let address = try resolve(host: host, port: port)
        let loop = try EventLoop(backend: common.backend)
        let log = logging.log
        say("Starting connection to \(address)")
        let started = Monotonic.now()
        let session = AppClientSession(
            request: AppRequest(action: action, value: value).encoded(), count: count, pipeline: pipeline,
            limits: limits.limits
        ) { event in
            switch event {
            case .connected: break
            case .sending(let bytes): log(.debug, "Sending \(bytesLiteral(bytes, limit: 400)) to \(address)")
            case .received(let response): log(.info, response.display)
            case .closed: loop.stop()
            }
        }
        try Connection.connect(to: address, on: loop, handler: session)
        loop.run()
        say("Closing connection to \(address)")
        if let failure = session.failure {
            if case .connect(let error) = failure {
                throw fail(connectFailure(error, to: address))
            }
            throw fail(failure.description)
        }
        if count > 1 {
            let seconds = Double(Monotonic.now() - started) / 1e9
            let rate = Double(count) / max(seconds, 1e-9)
            say("\(count) responses in \(String(format: "%.3f", seconds)) s (\(Int(rate)) requests/s, pipeline \(pipeline))")
        }
    }
}
