import Conduit
import Testing

@Suite("Echo over loopback, for both backends")
struct EchoTests {
    @Test(arguments: IOBackend.allCases)
    func roundTrip(backend: IOBackend) throws {
        try withEchoServer(backend: backend) { address in
            let result = try exchange([Array("Hello, world".utf8)], with: address, backend: backend)
            #expect(result.failure == nil)
            #expect(result.received == Array("Hello, world".utf8))
        }
    }

    /// 8 MiB does not fit in the socket buffers, so both sides hit EAGAIN, queue the
    /// rest, wait for EPOLLOUT, and the server's backpressure pauses its reading.
    @Test(arguments: IOBackend.allCases)
    func eightMebibytesThroughPartialWrites(backend: IOBackend) throws {
        let big = payload(count: 8 << 20)
        try withEchoServer(backend: backend) { address in
            let result = try exchange([big], with: address, backend: backend)
            #expect(result.failure == nil)
            #expect(result.received.count == big.count)
            #expect(result.received == big)
        }
    }

    @Test(arguments: IOBackend.allCases)
    func thousandConcurrentClientsAllEchoedByteExact(backend: IOBackend) throws {
        let messages = MultiConnectionClient.messages(count: 2)
        try withEchoServer(backend: backend, threads: 2) { address in
            let summary = try MultiConnectionClient(
                address: address, count: 1000, messages: messages, backend: backend
            ).run()
            #expect(summary.failures.isEmpty)
            #expect(summary.succeeded == 1000)
            #expect(summary.bytesEchoed == 1000 * messages.joined().count)
        }
    }

    @Test(arguments: IOBackend.allCases)
    func ipv6Loopback(backend: IOBackend) throws {
        let address = try SocketAddress.resolve(host: "::1", port: 0)
        try withEchoServer(backend: backend, address: address) { bound in
            #expect(bound.description.hasPrefix("[::1]:"))
            let result = try exchange([Array("over IPv6".utf8)], with: bound, backend: backend)
            #expect(result.failure == nil)
            #expect(result.received == Array("over IPv6".utf8))
        }
    }

    @Test(arguments: IOBackend.allCases)
    func refusedConnectionIsReportedNotThrown(backend: IOBackend) throws {
        // Bind a port and close it again, so nothing listens there.
        let port = try withEchoServer(backend: backend) { $0.port }
        let result = try exchange([Array("x".utf8)], with: .loopback(port: port), backend: backend)
        guard case .socket(let error)? = result.failure else {
            Issue.record("expected a socket failure, got \(String(describing: result.failure))")
            return
        }
        #expect(error.isConnectionRefused)
        #expect(error.operation == "connect")
    }
}
