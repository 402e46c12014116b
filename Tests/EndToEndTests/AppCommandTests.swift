import Foundation
import Testing

@Suite("conduit app-server and app-client, and interoperability with an independent implementation")
struct AppCommandTests {
    static let backends = commandBackends

    @Test(arguments: backends)
    func searchAndBinaryAgainstOurServer(backend: String) throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--backend", backend])
        let port = String(try #require(server.listeningPort()))
        let search = try runConduit(["app-client", "127.0.0.1", port, "search", "morpheus", "--backend", backend])
        #expect(search.status == 0)
        #expect(search.stdout.contains("Got result: Follow the white rabbit. 🐰\n"))
        let binary = try runConduit(["app-client", "127.0.0.1", port, "binary", "😃", "--backend", backend])
        #expect(binary.status == 0)
        #expect(binary.stdout.contains(#"Got response: b'First 10 bytes of request: binary\xf0\x9f\x98\x83'"#))
        let many = try runConduit([
            "app-client", "127.0.0.1", port, "search", "ring", "--repeat", "500", "--pipeline", "8", "--log-level", "warning",
        ])
        #expect(many.status == 0)
        #expect(many.stdout.contains("500 responses in "))
        #expect(server.waitForOutput(containing: "Received request {\"action\": \"search\", \"value\": \"morpheus\"} from 127.0.0.1:"))
        server.signal(SIGTERM)
        let served = server.finish(seconds: 10)
        #expect(served.status == 0)
        #expect(served.stdout.contains("Accepted connection from 127.0.0.1:"))
        #expect(served.stdout.contains("Received binary/custom-client-binary-type request from 127.0.0.1:"))
        #expect(served.stdout.contains("Closing connection to 127.0.0.1:"))
    }

    @Test func debugLogShowsTheBytesSent() throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--log-level", "warning"])
        let port = String(try #require(server.listeningPort()))
        let client = try runConduit(["app-client", "127.0.0.1", port, "search", "morpheus", "--log-level", "debug"])
        #expect(client.stdout.contains(
            #"Sending b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}{"action": "search", "value": "morpheus"}' to 127.0.0.1:"#))
        server.signal(SIGINT)
        #expect(server.finish(seconds: 10).status == 0)
    }

    @Test func appClientRefused() throws {
        let port = freePort()
        let result = try runConduit(["app-client", "127.0.0.1", String(port), "search", "x"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("connection refused: is a server listening on 127.0.0.1:\(port)?"))
    }

    /// Our client against the independent Python server, which closes after each
    /// response as the tutorial's does.
    @Test(arguments: backends)
    func ourClientAgainstPythonServer(backend: String) throws {
        let server = try python("py_app_server.py", ["127.0.0.1", "0"])
        let port = String(try #require(server.listeningPort()))
        for (action, value, line) in [
            ("search", "morpheus", "Got result: Follow the white rabbit. 🐰"),
            ("search", "🐶", "Got result: 🐾 Playing ball! 🏐"),
            ("search", "xyz", "Got result: No match for 'xyz'."),
            ("binary", "😃", #"Got response: b'First 10 bytes of request: binary\xf0\x9f\x98\x83'"#),
        ] {
            let result = try runConduit(["app-client", "127.0.0.1", port, action, value, "--backend", backend])
            #expect(result.status == 0, "\(action) \(value): \(result.stderr)")
            #expect(result.stdout.contains(line + "\n"), "\(result.stdout)")
        }
        // A second request on the same connection cannot be answered by a server that
        // closes after one response: the client says so instead of hanging.
        let twice = try runConduit(["app-client", "127.0.0.1", port, "search", "ring", "--repeat", "2"])
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("server closed the connection after 1 of 2 responses"))
        // The test runner's signal mask can reach the Python child; SIGKILL always works.
        server.signal(SIGKILL)
        server.finish(seconds: 10)
    }

    /// The same requests to our server and to the Python peer (the tutorial's texts)
    /// get the same bytes back, no-match answer included.
    @Test func ourServerAndThePythonServerAnswerTheSameBytes() throws {
        let ours = try ChildProcess(["app-server", "127.0.0.1", "0", "--log-level", "warning"])
        let peer = try python("py_app_server.py", ["127.0.0.1", "0"])
        let ourPort = String(try #require(ours.listeningPort()))
        let pythonPort = String(try #require(peer.listeningPort()))
        for (action, value, line) in [
            ("search", "xyz", "Got result: No match for 'xyz'."),
            ("search", "🐶", "Got result: 🐾 Playing ball! 🏐"),
            ("search", "it's \"quoted\"", "Got result: No match for 'it's \"quoted\"'."),
            ("binary", "😃", #"Got response: b'First 10 bytes of request: binary\xf0\x9f\x98\x83'"#),
        ] {
            let raw = try [ourPort, pythonPort].map { port -> String in
                let client = try python("py_app_client.py", ["127.0.0.1", port, action, value]).finish(seconds: 20)
                #expect(client.status == 0, "\(client.stderr)")
                // The independent client decoded the answer to the tutorial's text, then
                // printed the bytes it came in.
                #expect(client.stdout.hasPrefix(line + "\nraw: "), "\(port): \(client.stdout)")
                return client.stdout.split(separator: "\n").first { $0.hasPrefix("raw: ") }.map(String.init) ?? ""
            }
            #expect(raw[0] == raw[1], "\(action) \(value)")
        }
        peer.signal(SIGKILL)
        peer.finish(seconds: 10)
        ours.signal(SIGTERM)
        #expect(ours.finish(seconds: 10).status == 0)
    }

    /// The independent Python client against our server, checking the raw bytes
    /// against PROTOCOL.md's vectors.
    @Test(arguments: backends)
    func pythonClientAgainstOurServer(backend: String) throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--backend", backend, "--log-level", "warning"])
        let port = String(try #require(server.listeningPort()))
        let morpheusResponseHex =
            "00677b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a2022746578742f6a736f6e222c2022636f6e74656e742d656e636f64696e67223a20227574662d38222c2022636f6e74656e742d6c656e677468223a2034337d7b22726573756c74223a2022466f6c6c6f7720746865207768697465207261626269742e20f09f90b0227d"
        for (action, value, line) in [
            ("search", "morpheus", "Got result: Follow the white rabbit. 🐰"),
            ("search", "ring", "Got result: In the caves beneath the Misty Mountains. 💍"),
            ("search", "xyz", "Got result: No match for 'xyz'."),
            ("binary", "😃", #"Got response: b'First 10 bytes of request: binary\xf0\x9f\x98\x83'"#),
        ] {
            let client = try python("py_app_client.py", ["127.0.0.1", port, action, value]).finish(seconds: 20)
            #expect(client.status == 0, "\(client.stderr)")
            #expect(client.stdout.contains(line + "\n"), "\(client.stdout)")
            if value == "morpheus" {
                #expect(client.stdout.contains("raw: " + morpheusResponseHex + "\n"))
            }
        }
        server.signal(SIGTERM)
        #expect(server.finish(seconds: 10).status == 0)
    }
}
