// A protocol of your own on the async server: lines in, lines out. Each connection is
// handled by its own task, which may await anything; cancelling `run` stops the server
// gracefully (handlers see the end of their input and may still answer).
import Conduit

let loops = try EventLoopGroup(threads: 1)
let server = try await AsyncServer.start(group: loops, address: .loopback(port: 0))
let serving = Task {
    await server.run { connection in
        do {
            for try await line in connection.messages(LineFraming()) {
                let command = String(decoding: line.dropLast(), as: UTF8.self)
                let answer = switch command {
                case "PING": "PONG"
                case let text where text.hasPrefix("ECHO "): String(text.dropFirst(5))
                default: "ERROR unknown command \(command)"
                }
                try await connection.send(Array((answer + "\n").utf8))
            }
        } catch {
            print("connection failed: \(error)")
        }
        await connection.close()
    }
}

let client = try await AsyncConnection.connect(to: server.address, on: loops.next())
for command in ["PING", "ECHO line protocols are easy", "JUMP"] {
    let answer = try await client.request(Array((command + "\n").utf8), framing: LineFraming())
    print("\(command) -> \(String(decoding: answer, as: UTF8.self))", terminator: "")
}
serving.cancel()
_ = try await client.receive()  // the end of the stream: the server has stopped
await client.close()
await serving.value
await loops.shutdown()
