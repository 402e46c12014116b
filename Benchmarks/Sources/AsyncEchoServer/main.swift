import Conduit
import Glibc

// Conduit's async face as an echo server: an `AsyncServer` whose handler awaits each
// `receive` and `send` (a task per connection, on its loop), the peer of the
// synchronous `conduit multiconn-server` in scripts/compare_echo_servers.py.
// usage: AsyncEchoServer PORT [THREADS]; prints "Listening on 127.0.0.1:PORT"; runs
// until SIGTERM or SIGINT.

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? UInt16(arguments[1]) ?? 0 : 0
let threads = arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1
let loops = try EventLoopGroup(threads: threads)
var options = ServerOptions()
options.maxConnections = 200_000
let server = try await AsyncServer.start(group: loops, address: .loopback(port: port), options: options)
// Written straight to the descriptor: the harness reads this line through a pipe, where
// stdout would be buffered.
let line = Array("Listening on \(server.address)\n".utf8)
_ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
let serving = Task {
    await server.run { connection in
        while let bytes = try? await connection.receive() {
            do { try await connection.send(bytes) } catch { break }
        }
        await connection.close()
    }
}
// The default action of SIGTERM ends the process, which is all this peer needs.
await serving.value
