import Conduit

/// Client side of an echo round-trip benchmark: sends one message, waits for the
/// whole echo, repeats until `remaining` reaches zero, then stops its loop (leaving
/// the connection open for the next batch).
final class PingPong: ConnectionHandler {
    let message: [UInt8]
    var remaining = 0
    private var received = 0
    private(set) var isOpen = false
    private(set) var failure: SocketError?

    init(size: Int) {
        message = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    }

    /// Starts a batch of `count` round trips on `connection`; run its loop afterwards.
    func start(_ count: Int, on connection: Connection) {
        remaining = count
        received = 0
        connection.write(message)
    }

    func connectionDidOpen(_ connection: Connection) {
        isOpen = true
        connection.loop.stop()
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        received += bytes.count
        if received >= message.count {
            received -= message.count
            remaining -= 1
            if remaining == 0 {
                connection.loop.stop()
            } else {
                connection.write(message)
            }
        }
        return bytes.count
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        failure = error
        isOpen = false
        connection.loop.stop()
    }
}

/// An echo server on its own loop thread and a client connection on a loop that the
/// benchmark thread drives.
final class EchoRig {
    let group: EventLoopGroup
    let server: Server
    let clientLoop: EventLoop
    let client: PingPong
    let connection: Connection

    init(backend: IOBackend, size: Int) throws {
        group = try EventLoopGroup(threads: 1, backend: backend)
        server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        clientLoop = try EventLoop(backend: backend)
        client = PingPong(size: size)
        connection = try Connection.connect(to: server.address, on: clientLoop, handler: client)
        clientLoop.run(closingRegistered: false)
        precondition(client.isOpen, "benchmark client could not connect: \(String(describing: client.failure))")
    }

    /// Runs `count` round trips and returns when the last echo is back.
    func roundTrips(_ count: Int) {
        client.start(count, on: connection)
        clientLoop.run(closingRegistered: false)
        precondition(client.remaining == 0, "round trips stopped early: \(String(describing: client.failure))")
    }

    func shutdown() {
        connection.close()
        server.stopAccepting()
        group.shutdown()
    }
}
