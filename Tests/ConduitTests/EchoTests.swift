import Conduit
import ConduitTutorial
import ConduitTestSupport
import Testing
import Glibc

@Suite("Echo over loopback, for both backends")
struct EchoTests {
    @Test(arguments: IOBackend.allCases)
    func roundTrip(backend: IOBackend) throws {
        try requireUsable(backend)
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
        try requireUsable(backend)
        let big = payload(count: 8 << 20)
        try withEchoServer(backend: backend) { address in
            let result = try exchange([big], with: address, backend: backend)
            #expect(result.failure == nil)
            #expect(result.received.count == big.count)
            #expect(firstDifference(result.received, big) == nil)
        }
    }

    @Test(arguments: IOBackend.allCases)
    func thousandConcurrentClientsAllEchoedByteExact(backend: IOBackend) throws {
        try requireUsable(backend)
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
        try requireUsable(backend)
        let address = try SocketAddress.resolve(host: "::1", port: 0)
        try withEchoServer(backend: backend, address: address) { bound in
            #expect(bound.port > 0)
            #expect(bound.description == "[::1]:\(bound.port)")
            let result = try exchange([Array("over IPv6".utf8)], with: bound, backend: backend)
            #expect(result.failure == nil)
            #expect(result.received == Array("over IPv6".utf8))
        }
    }

    @Test(arguments: IOBackend.allCases)
    func refusedConnectionIsReportedNotThrown(backend: IOBackend) throws {
        try requireUsable(backend)
        // Bind a port and close it again, so nothing listens there.
        let port = try withEchoServer(backend: backend) { $0.port }
        let result = try exchange([Array("x".utf8)], with: .loopback(port: UInt16(port)), backend: backend)
        guard case .connect(let error)? = result.failure else {
            Issue.record("expected a connect failure, got \(String(describing: result.failure))")
            return
        }
        #expect(error.kind == .connectionRefused)
    }
}

@Suite("Socket buffer sizes")
struct BufferSizeTests {
    /// Fixed kernel buffers on both sides (128 KiB: smaller than the default autotuned
    /// ones, but above loopback's 64 KiB MSS, below which TCP crawls on delayed ACKs)
    /// make a 1 MiB echo go through many partial writes; it must arrive byte-exact.
    @Test(arguments: IOBackend.allCases)
    func smallBuffersStillEchoExactly(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        var options = ServerOptions()
        options.receiveBufferSize = 131_072
        options.sendBufferSize = 131_072
        let server = try Server(group: group, address: .loopback(port: 0), options: options) { _ in EchoHandler() }
        let loop = try EventLoop(backend: backend)
        let data = payload(count: 1 << 20)
        let exchange = EchoExchange(messages: [data]) { _, event in
            if case .closed = event { loop.stop() }
        }
        var connect = ConnectOptions()
        connect.receiveBufferSize = 131_072
        connect.sendBufferSize = 131_072
        let connection = try Connection.connect(to: server.address, on: loop, options: connect, handler: exchange)
        // The kernel took both sizes: Linux doubles what is asked (for its bookkeeping)
        // and reports the doubled value (128 KiB is below net.core.wmem_max/rmem_max,
        // 208 KiB by default). Left alone, the buffers autotune to other sizes.
        for option in [SO_SNDBUF, SO_RCVBUF] {
            var size: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(connection.descriptor, SOL_SOCKET, option, &size, &length) == 0)
            #expect(size == 2 * 131_072, "option \(option)")
        }
        loop.run()
        #expect(exchange.succeeded)
        #expect(firstDifference(exchange.received, data) == nil)
    }
}
