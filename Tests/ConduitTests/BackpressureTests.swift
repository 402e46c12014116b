import Conduit
import ConduitTutorial
import Testing

@Suite("Backpressure cannot deadlock two well-behaved peers")
struct BackpressureTests {
    /// A client that writes 64 MiB at once to an echo server, both with 64 KiB socket
    /// buffers: the server must pause reading while its output is high, and the client
    /// must keep reading while its own unsent output is high, or neither side moves.
    @Test(arguments: IOBackend.allCases)
    func sixtyFourMebibytesEchoThroughSmallSocketBuffers(backend: IOBackend) throws {
        let big = payload(count: 64 << 20)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        var serverOptions = ServerOptions()
        serverOptions.receiveBufferSize = 64 << 10
        serverOptions.sendBufferSize = 64 << 10
        let server = try Server(group: group, address: .loopback(port: 0), options: serverOptions) { _ in
            EchoHandler()
        }
        var connectOptions = ConnectOptions()
        connectOptions.receiveBufferSize = 64 << 10
        connectOptions.sendBufferSize = 64 << 10
        let result = try boundedExchange([big], with: server.address, backend: backend, options: connectOptions)
        #expect(result.finishedInTime, "the echo stalled after \(result.exchange.received.count) of \(big.count) bytes")
        #expect(result.exchange.failure == nil)
        #expect(result.exchange.received.count == big.count)
        #expect(result.exchange.received == big)
    }
}
