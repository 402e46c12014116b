import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Testing

/// The README's embedding examples, as written there (ports made ephemeral), so the
/// documentation cannot drift from the API.
@Suite("README embedding examples")
struct ReadmeExampleTests {
    final class Upper: ConnectionHandler {
        func connection(_ c: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
            c.write(bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 })
            return bytes.count
        }
    }

    @Test func asyncServerClientAndAppProtocol() async throws {
        let group = try EventLoopGroup(threads: 1)
        let server = try await Server.start(group: group, address: .loopback(port: 0)) { _ in Upper() }
        let connection = try await AsyncConnection.connect(to: server.address, on: group.next())
        try await connection.send(Array("hello".utf8))
        var reply: [UInt8] = []
        while reply.count < 5, let chunk = try await connection.receive() { reply += chunk }
        #expect(reply == Array("HELLO".utf8))
        await connection.close()

        var router = Router.tutorial()
        router.register(action: "upper") { request in .string((request["value"]?.stringValue ?? "").uppercased()) }
        let app = try await AppServer.start(group: group, address: .loopback(port: 0), router: router)
        let client = try await AsyncConnection.connect(to: app.address, on: group.next())
        try await client.send(MessageEncoder.jsonMessage(.object([("action", .string("upper")), ("value", .string("hi"))])))
        var decoder = MessageDecoder()
        var received: [UInt8] = []
        var answer: Response?
        while answer == nil, let chunk = try await client.receive() {
            received += chunk
            _ = try received.withUnsafeBytes { bytes in
                try decoder.decode(bytes) { message in
                    answer = try? Response.decode(message)
                    return false
                }
            }
        }
        #expect(answer == .result(.string("HI")))
        await client.close()

        #expect(await server.shutdownGracefully() == 0)
        #expect(await app.shutdownGracefully() == 0)
        await group.shutdown()
    }

    /// The README's Unix socket and adopted-descriptor lines (a temporary path, and a
    /// descriptor the test made listen instead of systemd's 3).
    @Test func unixSocketAndAdoptedDescriptor() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let group = try EventLoopGroup(threads: 2)
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: try .unix(path: directory.file("my.sock"))) { _ in Upper() }
        let client = try BlockingClient(unixPath: directory.file("my.sock"))
        client.send(Array("unix".utf8))
        #expect(client.receive(count: 4) == Array("UNIX".utf8))
        let (descriptor, port) = makeLoopbackListeningSocket()
        let activated = try Server(group: group, adoptingListeningDescriptor: descriptor) { _ in Upper() }
        let tcp = try BlockingClient(port: port)
        tcp.send(Array("fd".utf8))
        #expect(tcp.receive(count: 2) == Array("FD".utf8))
        activated.syncStopAccepting()
        server.syncStopAccepting()
    }
}
