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
        // A peer that closes mid-send must not kill us; sends use MSG_NOSIGNAL too.
        signal(SIGPIPE, SIG_IGN)
        // A parent may start us with SIGINT/SIGTERM blocked (threads of thread pools
        // block them, and the mask survives exec); a stop request must never wait
        // pending, so take them unblocked.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
