import Foundation
import Testing

@Suite("The tutorial's buffer-filling demo and socket state")
struct BufferFillTests {
    @Test(arguments: ["shim", "swift"])
    func clientFillsBuffersOfAServerThatNeverReads(backend: String) throws {
        let server = try ChildProcess(["app-server-test", "127.0.0.1", "0", "--backend", backend])
        let port = try #require(server.listeningPort())
        let client = try ChildProcess([
            "app-client-test", "127.0.0.1", String(port), "binary", "test", "--retries", "2", "--backend", backend,
        ])
        #expect(client.waitForOutput(containing: "Send-Q"))
        // While the client still holds its socket, both ends show their queues.
        let stat = try runConduit(["stat", "--port", String(port)])
        let lines = stat.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Proto Recv-Q Send-Q") == true)
        #expect(lines.contains { $0.contains("127.0.0.1:\(port)") && $0.hasSuffix("LISTEN") })
        let established = lines.filter { $0.hasSuffix("ESTABLISHED") }
        #expect(established.count == 2)
        let queues = established.map { line -> (Int, Int) in
            let fields = line.split(separator: " ")
            return (Int(fields[1]) ?? -1, Int(fields[2]) ?? -1)
        }
        #expect(queues.contains { $0.0 > 0 }, "the server side's Recv-Q fills: \(established)")
        #expect(queues.contains { $0.1 > 0 }, "the client side's Send-Q fills: \(established)")
        let finished = client.finish(seconds: 20)
        #expect(finished.status == 0)
        #expect(finished.stdout.components(separatedBy: "Error: send() would block on 127.0.0.1:\(port)").count == 4)
        #expect(finished.stdout.contains("Resource temporarily unavailable"))
        #expect(server.stdout.contains("Accepted connection from 127.0.0.1:"))
        server.signal(SIGTERM)
        #expect(server.finish(seconds: 10).status == 0)
    }

    @Test func statFiltersByState() throws {
        let result = try runConduit(["stat", "--state", "listen"])
        #expect(result.status == 0)
        let rows = result.stdout.split(separator: "\n").dropFirst()
        #expect(rows.allSatisfy { $0.hasSuffix("LISTEN") })
    }
}
