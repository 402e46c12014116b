import Conduit
import ConduitApp
import ConduitMessage
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
}
