// A synchronous handler: the fastest path. It runs on its connection's loop thread,
// sees received bytes in place (no copy) and must not block.
import Conduit

final class Echo: ConnectionHandler {
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        connection.write(bytes)
        return bytes.count  // everything was used; a partial message would return less
    }
}

let loops = try EventLoopGroup(threads: 2)
let server = try await Server.start(group: loops, address: .loopback(port: 0)) { _ in Echo() }
print("echo server on \(server.address)")

let client = try await AsyncConnection.connect(to: server.address, on: loops.next())
try await client.send(Array("hello, conduit\n".utf8))
let echoed = try await client.receiveMessage(LineFraming()) ?? []
print("echoed: \(String(decoding: echoed, as: UTF8.self))", terminator: "")

await client.close()
await server.shutdownGracefully()
await loops.shutdown()
