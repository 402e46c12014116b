import Conduit

/// Client side of a round-trip benchmark: sends `request`, waits until
/// `responseSize` bytes are back, repeats until `remaining` reaches zero, then stops
/// its loop (leaving the connection open for the next batch).
final class PingPong: ConnectionHandler {
    let request: [UInt8]
    let responseSize: Int
    var remaining = 0
    private var received = 0
    private(set) var isOpen = false
    private(set) var failure: SocketError?

    init(request: [UInt8], responseSize: Int) {
        self.request = request
        self.responseSize = responseSize
    }

    /// Starts a batch of `count` round trips on `connection`; run its loop afterwards.
    func start(_ count: Int, on connection: Connection) {
        remaining = count
        received = 0
        connection.write(request)
    }

    func connectionDidOpen(_ connection: Connection) {
        isOpen = true
        connection.loop.stop()
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        received += bytes.count
        if received >= responseSize {
            received -= responseSize
            remaining -= 1
            if remaining == 0 {
                connection.loop.stop()
            } else {
                connection.write(request)
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

/// A server on its own loop thread and one client connection on a loop that the
/// benchmark thread drives.
final class RoundTripRig {
    let group: EventLoopGroup
    let stopServer: () -> Void
    let clientLoop: EventLoop
    let client: PingPong
    let connection: Connection

    /// `startServer` starts a server on the group and returns its address and a stop.
    init(
        backend: IOBackend, request: [UInt8], responseSize: Int,
        startServer: (EventLoopGroup) throws -> (SocketAddress, () -> Void)
    ) throws {
        group = try EventLoopGroup(threads: 1, backend: backend)
        let (address, stop) = try startServer(group)
        stopServer = stop
        clientLoop = try EventLoop(backend: backend)
        client = PingPong(request: request, responseSize: responseSize)
        connection = try Connection.connect(to: address, on: clientLoop, handler: client)
        clientLoop.run(closingRegistered: false)
        precondition(client.isOpen, "benchmark client could not connect: \(String(describing: client.failure))")
    }

    /// Runs `count` round trips and returns when the last response is back.
    func roundTrips(_ count: Int) {
        client.start(count, on: connection)
        clientLoop.run(closingRegistered: false)
        precondition(client.remaining == 0, "round trips stopped early: \(String(describing: client.failure))")
    }

    func shutdown() {
        connection.close()
        stopServer()
        group.syncShutdown()
    }
}

/// Holds a benchmark's rig from setup to teardown (the hooks take no arguments).
final class RigSlot: @unchecked Sendable {
    var rig: RoundTripRig?
}
