import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Dispatch
import Glibc
import Testing

@Suite("Limits and timeouts")
struct TimeoutTests {
    /// A slowloris peer trickles a header and never finishes it: after the header
    /// timeout it gets an error response and a close; a normal client meanwhile is served.
    @Test(arguments: IOBackend.allCases)
    func headerDeadlineStopsSlowloris(backend: IOBackend) throws {
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.shutdown() }
        let server = try AppServer(
            group: group, address: .loopback(port: 0), headerTimeoutNanoseconds: 400_000_000)
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
        #expect(waited >= 0.35 && waited < 3, "closed after \(waited) s")
    }

    /// Content may arrive slowly once the header is complete: only the idle timeout applies.
    @Test func slowContentAfterACompleteHeaderIsFine() throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let server = try AppServer(group: group, address: .loopback(port: 0), headerTimeoutNanoseconds: 200_000_000)
        let client = try BlockingClient(port: server.address.port)
        let request = Vectors.searchMorpheus
        let headerEnd = 2 + 0x67
        client.send(Array(request[..<(headerEnd + 5)]))
        usleep(500_000)
        client.send(Array(request[(headerEnd + 5)...]))
        #expect(client.receive(count: Vectors.morpheusResponse.count) == Vectors.morpheusResponse)
    }

    @Test(arguments: IOBackend.allCases)
    func idleConnectionsAreClosed(backend: IOBackend) throws {
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.shutdown() }
        var options = ServerOptions()
        options.idleTimeoutNanoseconds = 300_000_000
        let server = try Server(group: group, address: .loopback(port: 0), options: options) { _ in EchoHandler() }
        let idle = try BlockingClient(port: server.address.port)
        let started = Monotonic.now()
        let (bytes, closed) = idle.receiveUntilClosed()
        let waited = Double(Monotonic.now() - started) / 1e9
        #expect(bytes.isEmpty)
        #expect(closed)
        #expect(waited >= 0.25 && waited < 3, "closed after \(waited) s")
    }

    @Test(arguments: IOBackend.allCases)
    func maxConnectionsRefusesClearlyAndRecovers(backend: IOBackend) throws {
        let group = try EventLoopGroup(threads: 2, backend: backend)
        defer { group.shutdown() }
        var options = ServerOptions()
        options.maxConnections = 3
        let server = try AppServer(group: group, address: .loopback(port: 0), options: options)
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
        var served = false
        for _ in 0..<50 where !served {
            let next = try BlockingClient(port: port)
            next.send(Vectors.searchDog)
            served = next.receive(count: Vectors.dogResponse.count) == Vectors.dogResponse
            if !served { usleep(20_000) }
        }
        #expect(served)
    }

    /// On shutdown, output already queued for a client that is slow to read is still
    /// delivered in full before the close.
    @Test(arguments: IOBackend.allCases)
    func gracefulShutdownDeliversQueuedOutput(backend: IOBackend) throws {
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let client = try BlockingClient(port: server.address.port)
        let data = (0..<(600 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        client.send(data)
        usleep(200_000)  // the server has read it all and queued what the socket would not take
        let finished = DispatchSemaphore(value: 0)
        let leftBox = LeftBox()
        Background.run {
            leftBox.value = server.shutdownGracefully(group: group, timeoutNanoseconds: 5_000_000_000)
            finished.signal()
        }
        let (echoed, closed) = client.receiveUntilClosed()
        finished.wait()
        group.shutdown()
        #expect(closed)
        #expect(echoed.count == data.count)
        #expect(echoed == data)
        #expect(leftBox.value == 0)
    }
}

final class LeftBox: @unchecked Sendable { var value = -1 }

enum Background {
    static func run(_ body: @escaping @Sendable () -> Void) {
        DispatchQueue.global().async(execute: body)
    }
}
