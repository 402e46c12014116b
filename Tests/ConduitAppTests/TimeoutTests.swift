import Conduit
import ConduitTutorial
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Dispatch
import Glibc
import Synchronization
import Testing

@Suite("Limits and timeouts")
struct TimeoutTests {
    /// A slowloris peer trickles a header and never finishes it: after the header
    /// timeout it gets an error response and a close; a normal client meanwhile is served.
    @Test(arguments: IOBackend.allCases)
    func headerDeadlineStopsSlowloris(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let server = try AppServer(
            group: group, address: .loopback(port: 0), headerTimeout: .milliseconds(400))
        let port = server.address.port
        let slow = try BlockingClient(port: port)
        let started = Monotonic.now()
        for byte in Vectors.searchMorpheus.prefix(6) {
            slow.send([byte])
            let normal = try BlockingClient(port: port)
            normal.send(Vectors.searchDog)
            #expect(normal.receive(count: Vectors.dogResponse.count) == Vectors.dogResponse)
        }
        let (bytes, closed) = slow.receiveUntilClosed()
        let waited = Double(Monotonic.now() - started) / 1e9
        #expect(closed)
        #expect(try decodeResponses(bytes) == [.error("request header not complete within 0.4 s")])
        // Never before the timeout; how much later depends on the machine's load.
        #expect(waited >= 0.35, "closed after \(waited) s")
    }

    /// Content may arrive slowly once the header is complete: only the idle timeout applies.
    @Test func slowContentAfterACompleteHeaderIsFine() throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.syncShutdown() }
        let server = try AppServer(group: group, address: .loopback(port: 0), headerTimeout: .milliseconds(200))
        let client = try BlockingClient(port: server.address.port)
        let request = Vectors.searchMorpheus
        let headerEnd = 2 + 0x67
        client.send(Array(request[..<(headerEnd + 5)]))
        // Not synchronisation: slow content is the behaviour under test. The rest comes
        // well after the 200 ms header timeout, which must not apply to content.
        usleep(500_000)
        client.send(Array(request[(headerEnd + 5)...]))
        #expect(client.receive(count: Vectors.morpheusResponse.count) == Vectors.morpheusResponse)
    }

    /// A peer that completes its header, then sends one content byte every 200 ms keeps
    /// resetting the idle timer and is past the header timeout: the message timeout,
    /// counted from the message's start, ends it. (Before, 200 such connections held
    /// `--max-connections 200` for a whole test.)
    @Test(arguments: IOBackend.allCases)
    func messageDeadlineStopsTrickledContent(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let server = try AppServer(
            group: group, address: .loopback(port: 0), headerTimeout: .milliseconds(300),
            messageTimeout: .seconds(1))
        let slow = try BlockingClient(port: server.address.port)
        let request = Vectors.searchMorpheus
        let headerEnd = 2 + 0x67
        let started = Monotonic.now()
        slow.send(Array(request[..<(headerEnd + 1)]))
        let trickled = DispatchGroup()
        let fd = slow.fd
        onOwnThread(group: trickled) {
            // Fewer bytes than the content has, 200 ms apart: never complete.
            for byte in request[(headerEnd + 1)...].prefix(15) {
                usleep(200_000)
                guard Glibc.send(fd, [byte], 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
            }
        }
        let (bytes, closed) = slow.receiveUntilClosed()
        let waited = Double(Monotonic.now() - started) / 1e9
        #expect(closed)
        #expect(try decodeResponses(bytes) == [.error("request not complete within 1 s")])
        #expect(waited >= 0.95 && waited < 2.9, "closed after \(waited) s")
        _ = trickled.wait(timeout: HangGuard.deadline())
    }

    @Test(arguments: IOBackend.allCases)
    func idleConnectionsAreClosed(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        var options = ServerOptions()
        options.idleTimeout = .milliseconds(300)
        let server = try Server(group: group, address: .loopback(port: 0), options: options) { _ in EchoHandler() }
        let idle = try BlockingClient(port: server.address.port)
        let started = Monotonic.now()
        let (bytes, closed) = idle.receiveUntilClosed()
        let waited = Double(Monotonic.now() - started) / 1e9
        #expect(bytes.isEmpty)
        #expect(closed)
        #expect(waited >= 0.25, "closed after \(waited) s")
    }

    @Test(arguments: IOBackend.allCases)
    func maxConnectionsRefusesClearlyAndRecovers(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 2, backend: backend)
        defer { group.syncShutdown() }
        var options = ServerOptions()
        options.maxConnections = 3
        // The server logs each close after it has counted the connection out.
        let closedOne = DispatchSemaphore(value: 0)
        let log = AppLog(level: .info) { line in
            if line.contains("Closing connection to") { closedOne.signal() }
        }
        let server = try AppServer(group: group, address: .loopback(port: 0), options: options, log: log)
        let port = server.address.port
        var held = try (0..<3).map { _ in try BlockingClient(port: port) }
        for client in held {
            client.send(Vectors.searchDog)
            #expect(client.receive(count: Vectors.dogResponse.count) == Vectors.dogResponse)
        }
        #expect(server.server.openConnections == 3)
        let refused = try BlockingClient(port: port)
        let (bytes, closed) = refused.receiveUntilClosed()
        #expect(closed)
        #expect(try decodeResponses(bytes) == [.error("server busy: at its limit of 3 connections")])
        held.removeFirst()  // closes one
        #expect(closedOne.wait(timeout: HangGuard.deadline()) == .success)
        #expect(server.server.openConnections == 2)
        // Below the limit again: the next client is served, first time.
        let next = try BlockingClient(port: port)
        next.send(Vectors.searchDog)
        #expect(next.receive(count: Vectors.dogResponse.count) == Vectors.dogResponse)
    }

    /// On shutdown, output already queued for a client that is slow to read is still
    /// delivered in full before the close.
    @Test(arguments: IOBackend.allCases)
    func gracefulShutdownDeliversQueuedOutput(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let data = (0..<(600 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let allRead = DispatchSemaphore(value: 0)
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in
            CountingEcho(signalAfter: data.count, allRead)
        }
        let client = try BlockingClient(port: server.address.port)
        client.send(data)
        // The server has read everything and queued what the socket would not take.
        #expect(allRead.wait(timeout: HangGuard.deadline()) == .success)
        let left = Mutex(-1)
        let finished = DispatchSemaphore(value: 0)
        onOwnThread {
            let open = server.syncShutdownGracefully(timeout: HangGuard.duration)
            left.withLock { $0 = open }
            finished.signal()
        }
        let (echoed, closed) = client.receiveUntilClosed()
        // Our end of stream ends the server's drain of our input.
        client.shutdownWrite()
        finished.wait()
        group.syncShutdown()
        #expect(closed)
        #expect(echoed.count == data.count)
        #expect(firstDifference(echoed, data) == nil)
        #expect(left.withLock { $0 } == 0)
    }
}

/// Echoes, and signals once `signalAfter` bytes have been received in all.
final class CountingEcho: ConnectionHandler {
    private let target: Int
    private let reached: DispatchSemaphore
    private var received = 0

    init(signalAfter target: Int, _ reached: DispatchSemaphore) {
        self.target = target
        self.reached = reached
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        connection.write(bytes)
        let before = received
        received += bytes.count
        if before < target && received >= target { reached.signal() }
        return bytes.count
    }
}
