import ArgumentParser
import Conduit
import CShim
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
        // A fixed mmap threshold (setting it turns off glibc's raising it after each large
        // free): a large request's temporaries go back to the system when freed, instead
        // of staying in a heap that is seldom trimmed (139 MB stayed after 16 clients
        // with 16 MiB requests had gone).
        _ = cshim_fix_mmap_threshold(256 << 10)
        // A peer that closes mid-send must not kill us; sends use MSG_NOSIGNAL too.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as SocketError {
            // A failure no command put into words: still one line, in the tool's voice
            // (the parser would print "Error: …", its form for usage errors).
            exit(withError: fail(error.description))
        } catch {
            exit(withError: error)
        }
    }
}
