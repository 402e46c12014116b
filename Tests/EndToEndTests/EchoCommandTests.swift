import Foundation
import Testing

@Suite("conduit echo and multiconn programs, as a user runs them")
struct EchoCommandTests {
    static let backends = commandBackends

    @Test(arguments: backends)
    func echoServerServesOneClientAndExits(backend: String) throws {
        let port = String(freePort())
        let server = try ChildProcess(["echo-server", "127.0.0.1", port, "--backend", backend])
        let arguments = ["echo-client", "127.0.0.1", port, "Hello, world", "--backend", backend]
        // The server may need a moment to listen, and no event says when it does: it
        // prints nothing before its one client, and a probe connection would be that
        // client. So this retries, with a deadline, while (and only while) the
        // connection is refused, which the server does not see.
        let deadline = Date().addingTimeInterval(10)
        var client = try runConduit(arguments)
        while client.stderr.contains("connection refused"), Date() < deadline {
            usleep(20_000)
            client = try runConduit(arguments)
        }
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout == "Received b'Hello, world'\n")
        let served = server.finish(seconds: 10)
        #expect(served.status == 0)
        #expect(served.stdout.hasPrefix("Connected by 127.0.0.1:"))
    }

    @Test(arguments: backends)
    func refusedConnectionIsOneClearLine(backend: String) throws {
        let port = freePort()
        let result = try runConduit(["echo-client", "127.0.0.1", String(port), "--backend", backend])
        #expect(result.status == 1)
        #expect(result.stderr == "conduit: connection refused: is a server listening on 127.0.0.1:\(port)?\n")
        #expect(result.stdout.isEmpty)
    }

    @Test func missingArgumentsPrintUsage() throws {
        let server = try runConduit(["multiconn-server"])
        #expect(server.status == 64)
        #expect(server.stderr.contains("Usage: conduit multiconn-server <host> <port>"))
        let client = try runConduit(["multiconn-client", "127.0.0.1"])
        #expect(client.status == 64)
        #expect(client.stderr.contains("Usage: conduit multiconn-client <host> <port> <num-connections>"))
    }

    @Test(arguments: backends)
    func multiconnServerAndClientLikeTheTutorial(backend: String) throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--backend", backend])
        let port = try #require(server.listeningPort())
        let client = try runConduit(["multiconn-client", "127.0.0.1", String(port), "2", "--backend", backend])
        #expect(client.status == 0)
        for number in 1...2 {
            #expect(client.stdout.contains("Starting connection \(number) to 127.0.0.1:\(port)\n"))
            #expect(client.stdout.contains("Sending b'Message 1 from client.' to connection \(number)\n"))
            #expect(client.stdout.contains("Sending b'Message 2 from client.' to connection \(number)\n"))
            #expect(client.stdout.contains("Closing connection \(number)\n"))
        }
        #expect(client.stdout.contains("2 of 2 connections echoed 88 bytes; 0 failed"))
        #expect(server.waitForOutput(containing: "Closing connection to 127.0.0.1:"))
        server.signal(SIGTERM)
        let served = server.finish(seconds: 10)
        #expect(served.status == 0)
        #expect(served.stdout.components(separatedBy: "Accepted connection from 127.0.0.1:").count == 3)
        // TCP may deliver the two messages in one read (as in the tutorial's transcript)
        // or in two; either way every byte is echoed.
        let echoed = served.stdout.split(separator: "\n").filter { $0.hasPrefix("Echoing b'") }
        #expect(echoed.joined().components(separatedBy: "Message 1 from client.").count == 3)
        #expect(echoed.joined().components(separatedBy: "Message 2 from client.").count == 3)
        #expect(served.stdout.contains("Caught SIGTERM"))
    }

    @Test func multiconnClientManyConnectionsAndCustomSizes() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet"])
        let port = try #require(server.listeningPort())
        let client = try runConduit([
            "multiconn-client", "127.0.0.1", String(port), "300", "--messages", "3", "--message-size", "1000", "--quiet",
        ])
        #expect(client.status == 0)
        #expect(client.stdout == "300 of 300 connections echoed 900000 bytes; 0 failed\n")
        server.signal(SIGINT)
        #expect(server.finish(seconds: 10).status == 0)
    }

    @Test func multiconnClientAgainstNothingFailsClearly() throws {
        let port = freePort()
        let result = try runConduit(["multiconn-client", "127.0.0.1", String(port), "3", "--quiet"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("connection 1: connection refused: is a server listening on 127.0.0.1:\(port)?"))
        #expect(result.stdout.contains("0 of 3 connections echoed 0 bytes; 3 failed"))
    }
}
