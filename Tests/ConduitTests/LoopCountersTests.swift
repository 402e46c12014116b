import Conduit
import ConduitTutorial
import ConduitTestSupport
import Glibc
import Testing

/// The loops' counters for people profiling: system calls, wake-ups, would-blocks and
/// partial sends, counted where they happen.
@Suite("Event loop counters")
struct LoopCountersTests {
    /// One small echo: the server receives it and sends it back in one call each, and
    /// its loop woke up for it.
    @Test(arguments: IOBackend.allCases)
    func anEchoIsCountedAsItsSystemCalls(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let result = try exchange([Array("Hello, world".utf8)], with: server.address, backend: backend)
        #expect(result.received == Array("Hello, world".utf8))
        var counted = group.syncCounters()
        for _ in 0..<500 where counted.connectionsClosed == 0 {
            usleep(10_000)
            counted = group.syncCounters()
        }
        #expect(counted.bytesReceived == 12 && counted.bytesSent == 12)
        // The message, then the end of stream: two receives, perhaps one EAGAIN more.
        #expect((2...3).contains(counted.receiveCalls), "\(counted)")
        #expect(counted.sendCalls == 1 && counted.partialSends == 0 && counted.sendsWouldBlock == 0, "\(counted)")
        #expect(counted.wakeUps >= 2 && counted.events >= counted.wakeUps, "\(counted)")
    }

    /// 8 MiB to a peer that reads nothing at first: the server's sends fill the socket,
    /// so some are partial or refused, and its reading pauses for backpressure.
    @Test func aFullSocketShowsAsWouldBlockAndPartialSends() throws {
        let group = try EventLoopGroup(threads: 1, backend: .shim)
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let big = [UInt8](repeating: 7, count: 8 << 20)
        let result = try exchange([big], with: server.address, backend: .shim)
        #expect(result.received.count == big.count)
        let counted = group.syncCounters()
        #expect(counted.partialSends + counted.sendsWouldBlock > 0, "\(counted)")
        #expect(counted.readPausesForBackpressure > 0, "\(counted)")
        #expect(counted.description.contains("backpressure pauses"))
    }
}
