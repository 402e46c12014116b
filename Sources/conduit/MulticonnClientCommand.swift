import ArgumentParser
import Conduit
import ConduitApp
import ConduitTutorial

/// `conduit multiconn-client`: many non-blocking connections, each echoing its messages.
struct MulticonnClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multiconn-client",
        abstract: "Multi-connection client: open connections non-blocking, send messages, check every echo.",
        usage: """
            conduit multiconn-client <host> <port> <num-connections> [<options>]
            conduit multiconn-client --unix <path> <num-connections> [<options>]
            """
    )

    @Argument(help: ArgumentHelp(
        "Server address and port (left out with --unix), then the number of connections.",
        valueName: "host port num-connections"))
    var words: [String] = []
    @Option(help: ArgumentHelp("Connect to the server's Unix domain socket at PATH instead of HOST PORT.", valueName: "path"))
    var unix: String?
    @Option(help: "Messages per connection (\(FlagRange.messages.typed)).") var messages = 2
    @Option(help: "Pad or cut each message to this many bytes (\(FlagRange.payload.typed)).") var messageSize: Int?
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "TLS") var tlsFlags: TLSClientFlags
    @OptionGroup var common: CommonOptions

    /// HOST PORT (or --unix PATH), then NUM_CONNECTIONS.
    func target() throws -> ClientTarget { try ClientTarget(words: words, unix: unix, own: 1...1, names: "NUM_CONNECTIONS") }
    /// Checked by `validate`.
    var numConnections: Int { Int(words[words.count - 1]) ?? 0 }

    func validate() throws {
        _ = try target()
        guard let count = Int(words[words.count - 1]), count >= 1 else {
            throw ValidationError("NUM_CONNECTIONS must be at least 1 (got '\(words[words.count - 1])')")
        }
        try messages.validate("--messages", in: FlagRange.messages)
        try messageSize?.validate("--message-size", in: FlagRange.payload)
        guard numConnections <= 18_000 else {
            throw ValidationError("NUM_CONNECTIONS above 18000 needs more descriptors than one process has; use 'conduit load'")
        }
    }

    func run() throws {
        let address = try target().address()
        try checkMemory()
        let payloads = MultiConnectionClient.messages(count: messages, size: messageSize)
        let quiet = self.quiet
        let client = MultiConnectionClient(
            address: address, count: numConnections, messages: payloads, backend: common.backend,
            options: ConnectOptions(tls: try tlsFlags.context(host: try target().host ?? "")),
            log: quiet ? nil : { number, event in
                switch event {
                case .connecting: say("Starting connection \(number) to \(address)")
                case .connected: break
                case .sending(let bytes): say("Sending \(bytesLiteral(bytes, limit: 200)) to connection \(number)")
                case .received(let bytes): say("Received \(bytesLiteral(bytes, limit: 200)) from connection \(number)")
                case .closed: say("Closing connection \(number)")
                }
            }
        )
        let summary = try client.run()
        for (number, failure) in summary.failures.prefix(10) {
            if case .connect(let error) = failure {
                FileHandleOutput.standardError("connection \(number): \(connectFailure(error, to: address))")
            } else {
                FileHandleOutput.standardError("connection \(number): \(failure)")
            }
        }
        if summary.failures.count > 10 {
            FileHandleOutput.standardError("… and \(summary.failures.count - 10) more failed connections")
        }
        say("\(summary.succeeded) of \(numConnections) connections echoed \(summary.bytesEchoed) bytes; \(summary.failures.count) failed")
        if !summary.failures.isEmpty { throw ExitCode.failure }
    }

    /// Fails with one line (exit 1) if the messages would not fit in memory: each
    /// connection keeps what it expects back and what it received, and may queue all it
    /// sends, about three times its messages, so that a large `--messages` ×
    /// `--message-size` is refused instead of aborting the process when allocating.
    func checkMemory() throws {
        // Within the flags' ranges (18,000 × 3 × 100,000 × 16 MiB at most) this fits in an Int.
        let perConnection = 3 * messages * (messageSize ?? 32)
        let needed = numConnections * perConnection + messages * (messageSize ?? 32)
        if let available = SystemLimits.availableMemory(), needed > available {
            throw fail(
                "\(numConnections) connections of \(messages) messages need about \(needed >> 20) MiB but only \(available >> 20) MiB of memory is available (MemAvailable). Use fewer connections or messages, or a smaller --message-size.")
        }
    }
}
