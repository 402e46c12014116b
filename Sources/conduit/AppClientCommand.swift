import ArgumentParser
import Conduit
import ConduitTutorial
import ConduitApp
import ConduitMessage

/// `conduit app-client`: sends the tutorial's request and prints the answer.
struct AppClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-client",
        abstract: "Application client: send ACTION VALUE (search, or anything else as binary), print the response.",
        usage: """
            conduit app-client <host> <port> <action> <value> [<options>]
            conduit app-client --unix <path> <action> <value> [<options>]
            """
    )

    @Argument(help: ArgumentHelp(
        "Server address and port (left out with --unix), then the action ('search' sends JSON; any other action is sent as binary) and the value to search for (or to append to a binary request).",
        valueName: "host port action value"))
    var words: [String] = []
    @Option(help: ArgumentHelp("Connect to the server's Unix domain socket at PATH instead of HOST PORT.", valueName: "path"))
    var unix: String?
    @Option(name: .customLong("repeat"), help: "Send the request this many times on one connection.") var count = 1
    @Option(help: "Requests in flight at once (pipelining).") var pipeline = 1
    @OptionGroup var limits: LimitOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup(title: "TLS") var tlsFlags: TLSClientFlags
    @OptionGroup var common: CommonOptions

    /// HOST PORT (or --unix PATH), then ACTION VALUE.
    func target() throws -> ClientTarget { try ClientTarget(words: words, unix: unix, own: 2...2, names: "ACTION VALUE") }
    var action: String { words[words.count - 2] }
    var value: String { words[words.count - 1] }

    func validate() throws {
        _ = try target()
        guard count >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard pipeline >= 1 else { throw ValidationError("--pipeline must be at least 1") }
    }

    func run() throws {
        let address = try target().address()
        let tls = try tlsFlags.context(host: try target().host ?? "")
        let loop = try common.makeLoop()
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
        try Connection.connect(to: address, on: loop, options: ConnectOptions(tls: tls), handler: session)
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
