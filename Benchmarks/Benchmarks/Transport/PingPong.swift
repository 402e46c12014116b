import Conduit
import Foundation

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
/// rig's own thread drives, batch after batch (`run(closingRegistered: false)`). The
/// benchmark's hooks may run on different threads; a loop belongs to the thread that
/// runs it, and a uring loop may only ever run on one, so every step of the client is
/// handed to that one thread.
final class RoundTripRig {
    let group: EventLoopGroup
    let stopServer: () -> Void
    let driver = DriverThread()
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
        let client = PingPong(request: request, responseSize: responseSize)
        self.client = client
        (clientLoop, connection) = try driver.run {
            let loop = try EventLoop(backend: backend)
            let connection = try Connection.connect(to: address, on: loop, handler: client)
            loop.run(closingRegistered: false)
            precondition(client.isOpen, "benchmark client could not connect: \(String(describing: client.failure))")
            return (loop, connection)
        }
    }

    /// Runs `count` round trips and returns when the last response is back.
    func roundTrips(_ count: Int) {
        let (client, connection, loop) = (self.client, self.connection, clientLoop)
        driver.run {
            client.start(count, on: connection)
            loop.run(closingRegistered: false)
            precondition(client.remaining == 0, "round trips stopped early: \(String(describing: client.failure))")
        }
    }

    func shutdown() {
        let (connection, loop) = (self.connection, clientLoop)
        driver.run {
            connection.close()
            loop.stop()
            loop.run()
        }
        driver.end()
        stopServer()
        group.syncShutdown()
    }
}

/// A thread that runs the jobs handed to it one at a time, each while its caller waits.
final class DriverThread: @unchecked Sendable {
    private let jobReady = DispatchSemaphore(value: 0)
    private let jobDone = DispatchSemaphore(value: 0)
    private var job: (() -> Void)?

    init() {
        let thread = Thread { [self] in
            while true {
                jobReady.wait()
                guard let job else { return }
                job()
                jobDone.signal()
            }
        }
        thread.start()
    }

    /// Runs `body` on the thread and returns what it returned (or throws what it threw).
    func run<T>(_ body: @escaping () throws -> T) throws -> T {
        var outcome: Result<T, any Error>?
        job = { outcome = Result { try body() } }
        jobReady.signal()
        jobDone.wait()
        return try outcome!.get()
    }

    /// Runs `body` on the thread.
    func run(_ body: @escaping () -> Void) {
        job = body
        jobReady.signal()
        jobDone.wait()
    }

    /// Ends the thread.
    func end() {
        job = nil
        jobReady.signal()
    }
}

/// Holds a benchmark's rig from setup to teardown (the hooks take no arguments).
final class RigSlot: @unchecked Sendable {
    var rig: RoundTripRig?
}
