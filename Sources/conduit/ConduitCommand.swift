import ArgumentParser
import Glibc

/// `conduit`: the tutorial's socket programs, and a load generator, in one tool.
@main
struct ConduitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conduit",
        abstract: "Socket servers, clients and a load generator over a fast epoll transport.",
        subcommands: [
            EchoServerCommand.self, EchoClientCommand.self,
            MulticonnServerCommand.self, MulticonnClientCommand.self,
            AppServerCommand.self, AppClientCommand.self, AppServerTestCommand.self, AppClientTestCommand.self,
            StatCommand.self, LoadCommand.self,
        ]
    )

    static func main() {
        // First, while this is the only thread: see ProcessSignals.
        ProcessSignals.takeOver()
        // A peer that closes mid-send must not kill us; sends use MSG_NOSIGNAL too.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
