import Conduit
import ConduitApp
import ConduitMessage
import ConduitMetrics
import ConduitTestSupport
import Metrics
import MetricsTestKit
import Testing

/// Counters for people profiling the loop: counted by each loop, exported through
/// swift-metrics by `MetricsExporter`.
@Suite("Counters and swift-metrics")
struct MetricsTests {
    @Test func countersReachSwiftMetrics() async throws {
        let loops = try EventLoopGroup(threads: 2)
        let server = try await AppServer.start(
            group: loops, address: .loopback(port: 0),
            options: ServerOptions(maxConnections: 2, memoryBudget: 64 << 20))
        let metrics = TestMetrics()
        let exporter = MetricsExporter(group: loops, appServer: server, factory: metrics)

        let client = try await AsyncConnection.connect(to: server.address, on: loops.next())
        for _ in 0..<3 {
            _ = try await client.request(Vectors.searchMorpheus, framing: AppFraming())
        }
        await exporter.exportOnce()
        #expect(try metrics.expectGauge("conduit_connections_open").lastValue == 1)

        // A malformed request: an error answer and a close.
        let bad = try await AsyncConnection.connect(to: server.address, on: loops.next())
        try await bad.send([0, 0])
        while try await bad.receive() != nil {}
        await bad.close()
        await client.close()
        // The server closes each once it sees our end of stream.
        for _ in 0..<100 where server.server.openConnections > 0 { try await Task.sleep(for: .milliseconds(20)) }
        await exporter.exportOnce()

        #expect(try metrics.expectCounter("conduit_requests").totalValue == 3)
        #expect(try metrics.expectCounter("conduit_protocol_errors").totalValue == 1)
        #expect(try metrics.expectCounter("conduit_connections_accepted").totalValue == 2)
        #expect(try metrics.expectCounter("conduit_connections_closed").totalValue >= 2)
        let received = try metrics.expectCounter("conduit_bytes_received").totalValue
        #expect(received >= Int64(3 * Vectors.searchMorpheus.count + 2))
        let sent = try metrics.expectCounter("conduit_bytes_sent").totalValue
        #expect(sent >= Int64(3 * Vectors.morpheusResponse.count))
        #expect(try metrics.expectGauge("conduit_connections_open").lastValue == 0)
        await server.shutdownGracefully()
        await loops.shutdown()
    }

    /// The loops count refusals and backpressure pauses too.
    @Test func refusalsAndPausesAreCounted() async throws {
        let loops = try EventLoopGroup(threads: 1)
        let server = try await AppServer.start(
            group: loops, address: .loopback(port: 0), options: ServerOptions(maxConnections: 1))
        let first = try await AsyncConnection.connect(to: server.address, on: loops.next())
        _ = try await first.request(Vectors.searchMorpheus, framing: AppFraming())
        let second = try await AsyncConnection.connect(to: server.address, on: loops.next())
        while try await second.receive() != nil {}  // "server busy", then the end
        let counted = await loops.counters()
        #expect(counted.connectionsAccepted == 1)
        #expect(counted.connectionsRefused == 1)
        await first.close()
        await second.close()
        await server.shutdownGracefully()
        await loops.shutdown()
    }
}
