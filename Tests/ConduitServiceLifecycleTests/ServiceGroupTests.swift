import Conduit
import ConduitApp
import ConduitMessage
import ConduitServiceLifecycle
import ConduitTestSupport
import Dispatch
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The embedder's path (issue 10): servers under a `ServiceGroup`, shut down by its
/// graceful shutdown without losing an answer in flight, logging through swift-log.
@Suite("ServiceLifecycle and swift-log")
struct ServiceGroupTests {
    /// An app server with an action that awaits `value` ms (a Dispatch timer, like an
    /// outside service) runs as a service; the group's graceful shutdown comes while a
    /// request is in flight: its answer is delivered, then the group returns.
    @Test func appServerStopsGracefullyUnderAServiceGroup() async throws {
        let records = LogRecords()
        let logger = Logger(label: "conduit-test") { _ in CapturingLogHandler(records: records) }
        var router = Router.tutorial()
        router.register(action: "wait") { request, _ in
            let milliseconds = Int(request["value"]?.stringValue ?? "0") ?? 0
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { continuation.resume() }
            }
            return .string("waited \(milliseconds)")
        }
        let loops = try EventLoopGroup(threads: 1)
        let server = try await AppServer.start(
            group: loops, address: .loopback(port: 0), router: router, log: AppLog(logger))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: AppServerService(server: server))], logger: logger))
        let running = Task { try await group.run() }
        let client = try await AsyncConnection.connect(to: server.address, on: loops.next())
        let request = MessageEncoder.jsonMessage(.object([(key: "action", value: .string("wait")), (key: "value", value: .string("700"))]))
        let answer = Task { try await client.request(request, framing: AppFraming()) }
        // The shutdown must come while the action runs.
        for _ in 0..<HangGuard.polls where await server.counters().asyncActions == 0 { try await Task.sleep(for: .milliseconds(10)) }
        await group.triggerGracefulShutdown()
        var expected: [UInt8] = []
        try Response.result(.string("waited 700")).encode(into: &expected)
        #expect(try await answer.value == expected)
        #expect(try await client.receive() == nil)
        await client.close()
        try await running.value
        await loops.shutdown()
        // The server's lines reached the Logger with the peer as metadata.
        let accepted = records.all.first { $0.message.hasPrefix("Accepted connection from") }
        #expect(accepted?.level == .info)
        #expect(accepted?.metadata["peer"] != nil, "\(records.all)")
    }

    /// An async server as a service: the group's graceful shutdown ends `run` after the
    /// handler's last answer.
    @Test func asyncServerStopsGracefullyUnderAServiceGroup() async throws {
        let loops = try EventLoopGroup(threads: 1)
        let server = try await AsyncServer.start(group: loops, address: .loopback(port: 0))
        let service = AsyncServerService(server: server) { connection in
            do {
                for try await line in connection.messages(LineFraming()) {
                    try await connection.send(Array(String(decoding: line, as: UTF8.self).uppercased().utf8))
                }
            } catch {}
            await connection.close()
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: service)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let client = try await AsyncConnection.connect(to: server.address, on: loops.next())
        #expect(try await client.request(Array("abc\n".utf8), framing: LineFraming()) == Array("ABC\n".utf8))
        await group.triggerGracefulShutdown()
        #expect(try await client.receive() == nil)
        await client.close()
        try await running.value
        await loops.shutdown()
    }
}

extension ServiceGroupTests {
    /// A plain transport server (a handler of one's own) as a service: the group's
    /// graceful shutdown stops it and its connections, then the group returns. There was
    /// no wrapper for it.
    @Test func plainServerStopsUnderAServiceGroup() async throws {
        let loops = try EventLoopGroup(threads: 1)
        let server = try await Server.start(group: loops, address: .loopback(port: 0)) { _ in EchoOnce() }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: ServerService(server: server))], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let client = try await AsyncConnection.connect(to: server.address, on: loops.next())
        #expect(try await client.request(Array("ping\n".utf8), framing: LineFraming()) == Array("ping\n".utf8))
        await group.triggerGracefulShutdown()
        #expect(try await client.receive() == nil, "the server ended the connection")
        await client.close()
        try await running.value
        #expect(server.openConnections == 0)
        await loops.shutdown()
    }

    /// `AsyncServer.start` takes `onAcceptError`: refusals over `maxConnections` are
    /// heard (it had no way to hear them).
    @Test func asyncServerReportsAcceptErrors() async throws {
        let loops = try EventLoopGroup(threads: 1)
        let heard = Mutex<[SocketError.Kind]>([])
        let server = try await AsyncServer.start(
            group: loops, address: .loopback(port: 0), options: ServerOptions(maxConnections: 1),
            onAcceptError: { error in heard.withLock { $0.append(error.kind) } })
        let first = try await AsyncConnection.connect(to: server.address, on: loops.next())
        let second = try await AsyncConnection.connect(to: server.address, on: loops.next())
        #expect(try await second.receive() == nil, "refused over the limit")
        #expect(heard.withLock { $0 } == [.connectionLimit])
        await first.abort()
        await second.abort()
        await server.shutdownGracefully(timeout: .seconds(1))
        await loops.shutdown()
    }
}

/// Echoes what it receives.
final class EchoOnce: ConnectionHandler {
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        connection.write(bytes)
        return bytes.count
    }
}

/// Log records kept for a test to look at.
final class LogRecords: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let records = Mutex<[Record]>([])

    func append(_ record: Record) { records.withLock { $0.append(record) } }
    var all: [Record] { records.withLock { $0 } }
}

/// A swift-log handler that keeps every record.
struct CapturingLogHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        records.append(.init(level: event.level, message: "\(event.message)", metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}
