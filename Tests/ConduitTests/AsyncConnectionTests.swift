import Conduit
import ConduitTutorial
import ConduitTestSupport
import Testing

@Suite("async/await client face")
struct AsyncConnectionTests {
    @Test(arguments: IOBackend.allCases)
    func sendAndReceiveAnEcho(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await Server.start(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let connection = try await AsyncConnection.connect(to: server.address, on: group.next())
        let message = payload(count: 2 << 20)
        try await connection.send(message)
        var echoed: [UInt8] = []
        while echoed.count < message.count, let chunk = try await connection.receive() {
            echoed += chunk
        }
        #expect(firstDifference(echoed, message) == nil)
        await connection.close()
        #expect(try await connection.receive() == nil)
        await group.shutdown()
    }

    @Test func refusedConnectThrows() async throws {
        let port = try withEchoServer(backend: .shim) { $0.port }
        let group = try EventLoopGroup(threads: 1)
        await #expect(throws: SocketError.self) {
            _ = try await AsyncConnection.connect(to: .loopback(port: UInt16(port)), on: group.next())
        }
        await group.shutdown()
    }
}
