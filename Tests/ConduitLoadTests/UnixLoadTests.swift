import Conduit
import ConduitTestSupport
import ConduitApp
import ConduitLoad
import Foundation
import Testing

@Suite("Load generator over Unix domain sockets")
struct UnixLoadTests {
    @Test(arguments: IOBackend.allCases)
    func embeddedServerOnAUnixSocket(backend: IOBackend) throws {
        try requireUsable(backend)
        let result = try LoadGenerator(options: options {
            $0.backend = backend
            $0.embeddedUnixSocket = true
            $0.serverThreads = 2
        }).run()
        #expect(result.embedded)
        #expect(result.target.hasPrefix("unix:/tmp/conduit-load-"))
        #expect(result.stats.errorCount == 0, "\(result.stats.errors)")
        #expect(result.stats.connectionsUp == 10)
        #expect(result.stats.requests > 0)
        // The socket and its directory went with the server.
        let directory = String(result.target.dropFirst("unix:".count).dropLast("/server.sock".count))
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    /// A Unix connect finding the accept queue full fails at once (TCP would retry the
    /// SYN); the load generator tries again, so a burst larger than the backlog is
    /// established in full with no error.
    @Test(arguments: IOBackend.allCases)
    func connectsRefusedByAFullAcceptQueueAreRetried(backend: IOBackend) throws {
        try requireUsable(backend)
        let directory = try FileManager.default.url(
            for: .itemReplacementDirectory, in: .userDomainMask, appropriateFor: URL(fileURLWithPath: "/tmp"), create: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let server = try AppServer(
            group: group, address: try .unix(path: directory.appendingPathComponent("small.sock").path),
            options: ServerOptions(backlog: 8))
        let result = try LoadGenerator(options: options {
            $0.backend = backend
            $0.target = server.address
            $0.connections = 300
            $0.duration = .seconds(2)
        }).run()
        #expect(result.stats.errorCount == 0, "\(result.stats.errors)")
        #expect(result.stats.connectionsUp == 300)
    }
}
