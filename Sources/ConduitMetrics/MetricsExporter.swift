import Conduit
import ConduitApp
import Metrics
import ServiceLifecycle

/// Publishes Conduit's counters through swift-metrics: every `interval` it reads the
/// loops' `TransportCounters` (and an app server's `AppCounters`) and adds what changed
/// to `Counter`s named `conduit_…` (`conduit_bytes_received`, `conduit_requests`, …), and
/// sets the `conduit_connections_open` and `conduit_buffered_bytes` gauges.
///
/// The loops count with plain integers on their own threads whether or not anything
/// exports them, so serving costs the same with or without this; reading them is one
/// hop per loop per interval. A `Service`: run it in the same `ServiceGroup` as the
/// servers.
public struct MetricsExporter: Service {
    private let group: EventLoopGroup
    private let server: Server?
    private let appServer: AppServer?
    private let interval: Duration
    private let metrics: Exported

    /// Exports `group`'s counters and, when given, `server`'s open connections and
    /// buffered bytes, or an `appServer`'s (its counters too). `factory` defaults to the
    /// process's bootstrapped metrics backend.
    public init(
        group: EventLoopGroup, server: Server? = nil, appServer: AppServer? = nil, interval: Duration = .seconds(1),
        factory: MetricsFactory = MetricsSystem.factory
    ) {
        self.group = group
        self.server = server ?? appServer?.server
        self.appServer = appServer
        self.interval = interval
        self.metrics = Exported(factory: factory)
    }

    /// Exports every `interval` until a graceful shutdown or a cancellation, then once
    /// more, so that the last counts are not lost.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await exportOnce()
                try? await Task.sleep(for: interval)
            }
        }
        await exportOnce()
    }

    /// Reads the counters and publishes what changed since the last export.
    public func exportOnce() async {
        let transport = await group.counters()
        let app = await appServer?.counters()
        await metrics.publish(transport: transport, app: app, server: server)
    }
}

/// The metrics and the counts already published (an actor: `exportOnce` may be called
/// from anywhere).
actor Exported {
    private let factory: MetricsFactory
    private var lastTransport = TransportCounters()
    private var lastApp = AppCounters()
    private var counters: [String: Counter] = [:]
    private let open: Gauge
    private let buffered: Gauge

    init(factory: MetricsFactory) {
        self.factory = factory
        open = Gauge(label: "conduit_connections_open", factory: factory)
        buffered = Gauge(label: "conduit_buffered_bytes", factory: factory)
    }

    /// Each transport counter and the name it is published under.
    private static let transportNames: [(String, any KeyPath<TransportCounters, Int> & Sendable)] = [
        ("conduit_connections_accepted", \.connectionsAccepted), ("conduit_connections_refused", \.connectionsRefused),
        ("conduit_connections_closed", \.connectionsClosed), ("conduit_bytes_received", \.bytesReceived),
        ("conduit_bytes_sent", \.bytesSent), ("conduit_read_pauses_backpressure", \.readPausesForBackpressure),
        ("conduit_read_pauses_memory", \.readPausesForMemory),
        ("conduit_ring_buffer_shortages", \.receiveBufferShortages),
        ("conduit_ring_completion_overflows", \.completionOverflows), ("conduit_ring_refusals", \.ringRefusals),
    ]

    /// Each app-server counter and the name it is published under.
    private static let appNames: [(String, any KeyPath<AppCounters, Int> & Sendable)] = [
        ("conduit_requests", \.requests), ("conduit_async_actions", \.asyncActions),
        ("conduit_protocol_errors", \.protocolErrors), ("conduit_timeouts", \.timeouts),
        ("conduit_refused_for_memory", \.refusedForMemory),
    ]

    func publish(transport: TransportCounters, app: AppCounters?, server: Server?) {
        for (label, path) in Self.transportNames { add(label, transport[keyPath: path] - lastTransport[keyPath: path]) }
        lastTransport = transport
        if let app {
            for (label, path) in Self.appNames { add(label, app[keyPath: path] - lastApp[keyPath: path]) }
            lastApp = app
        }
        if let server {
            open.record(server.openConnections)
            buffered.record(server.bufferedBytes)
        }
    }

    /// Adds `delta` to the counter `label` (made on first use; a counter exists from the
    /// first export even at zero, so dashboards see it).
    private func add(_ label: String, _ delta: Int) {
        let counter = counters[label] ?? Counter(label: label, factory: factory)
        counters[label] = counter
        if delta > 0 { counter.increment(by: delta) }
    }
}
