import ArgumentParser
import Conduit
import ConduitApp

/// `conduit app-server`: the application server of the tutorial, persistent and fast.
struct AppServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-server",
        abstract: "Application server: custom-header messages, search and binary service; runs until Ctrl-C or SIGTERM."
    )

    @Argument(help: "Address to listen on ('' for all interfaces).") var host: String
    @Argument(help: "Port to listen on (0 picks a free one).") var port: Int
    @Option(help: "Event loop threads.") var threads = 1
    @OptionGroup var limits: LimitOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        let address = try resolve(host: host, port: port)
        let group = try EventLoopGroup(threads: max(1, threads), backend: common.backend)
        let server: AppServer
        do {
            server = try AppServer(group: group, address: address, limits: limits.limits, log: logging.log)
        } catch {
            group.shutdown()
            throw fail("cannot listen on \(address): \(error.reason)")
        }
        say("Listening on \(server.address)")
        let signal = waitForTermination()
        say("Caught \(signal), closing sockets")
        server.server.stopAccepting()
        group.shutdown()
    }
}
