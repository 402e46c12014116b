import Foundation
import Testing

@Suite("The tutorial's buffer-filling demo and socket state")
struct BufferFillTests {
    @Test(arguments: commandBackends)
    func clientFillsBuffersOfAServerThatNeverReads(backend: String) throws {
        let server = try ChildProcess(["app-server-test", "127.0.0.1", "0", "--backend", backend])
        let port = try #require(server.listeningPort())
        let client = try ChildProcess([
            "app-client-test", "127.0.0.1", String(port), "binary", "test", "--retries", "2", "--backend", backend,
        ])
        #expect(client.waitForOutput(containing: "Send-Q"))
        // The server's end has an owner only once the server has accepted it: until then
        // it waits in the listener's queue (data and all), held by no process, and stat
        // rightly shows "-" (a busy machine showed that). Its log line is the event.
        #expect(server.waitForOutput(containing: "Accepted connection from 127.0.0.1:"), "\(server.stdout)")
        // While the client still holds its socket, both ends show their queues.
        let stat = try runConduit(["stat", "--port", String(port)])
        #expect(stat.stdout.hasPrefix("Proto Recv-Q Send-Q"))
        let rows = statRows(stat.stdout)
        #expect(rows.contains { $0[3] == "127.0.0.1:\(port)" && $0[5] == "LISTEN" })
        // --port matches any socket with this port at either end, and other tests run at
        // the same time (a load from another source address may use the same port
        // number): this connection is the client's socket to the port and the server's
        // socket back to it.
        let established = rows.filter { $0[5] == "ESTABLISHED" }
        let clientSide = established.first {
            $0[4] == "127.0.0.1:\(port)" && $0.last == "\(client.process.processIdentifier)/conduit"
        } ?? []
        let serverSide = established.first { $0[3] == "127.0.0.1:\(port)" && clientSide.count > 3 && $0[4] == clientSide[3] } ?? []
        #expect(!clientSide.isEmpty && !serverSide.isEmpty, "\(established)")
        #expect(Int(serverSide.count > 1 ? serverSide[1] : "") ?? 0 > 0, "the server side's Recv-Q fills: \(established)")
        #expect(Int(clientSide.count > 2 ? clientSide[2] : "") ?? 0 > 0, "the client side's Send-Q fills: \(established)")
        // Each end shows the process that holds it, as lsof -i does in the tutorial.
        #expect(serverSide.last == "\(server.process.processIdentifier)/conduit", "\(established)")
        #expect(clientSide.last == "\(client.process.processIdentifier)/conduit", "\(established)")
        let finished = client.finish(seconds: 20)
        #expect(finished.status == 0)
        #expect(finished.stdout.components(separatedBy: "Error: send() would block on 127.0.0.1:\(port)").count == 4)
        #expect(finished.stdout.contains("Resource temporarily unavailable"))
        #expect(server.stdout.contains("Accepted connection from 127.0.0.1:"))
        server.signal(SIGTERM)
        let stopped = server.finish(seconds: 10)
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(3000))")
    }

    @Test func statFiltersByState() throws {
        // A listener of ours, and a connection to it whose two ends are ESTABLISHED (the
        // kernel completes the handshake without an accept): the filter has a socket in
        // the state to keep and sockets in another state to leave out.
        let listener = TestListener()
        let client = try #require(RawConnection(port: listener.port))
        let result = try runConduit(["stat", "--state", "listen"])
        #expect(result.status == 0)
        let rows = statRows(result.stdout)
        #expect(rows.contains { $0[3] == "127.0.0.1:\(listener.port)" && $0[5] == "LISTEN" }, "\(result.stdout)")
        #expect(!rows.contains { $0[3] == "127.0.0.1:\(listener.port)" && $0[5] != "LISTEN" }, "\(result.stdout)")
        #expect(!rows.contains { $0[4] == "127.0.0.1:\(listener.port)" }, "\(result.stdout)")
        #expect(rows.allSatisfy { $0[5] == "LISTEN" }, "\(result.stdout)")
        withExtendedLifetime(client) {}
    }
}
