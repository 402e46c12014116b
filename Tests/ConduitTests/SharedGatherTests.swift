import Conduit
import ConduitTestSupport
import Glibc
import Synchronization
import Testing

/// Output a handler writes during a callback goes to the loop's one gather buffer and
/// out in one send when the callback returns; only an unsent rest is kept by the
/// connection. These are the cases where that could lose or mix output.
@Suite("The loop's shared gather buffer")
struct SharedGatherTests {
    /// A greeting written while the connection opens arrives (it is gathered too).
    @Test(arguments: IOBackend.allCases)
    func outputWrittenOnOpenIsSent(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in Greeter() }
        for _ in 0..<3 {
            let client = try BlockingClient(port: Int(server.address.port))
            #expect(client.receive(count: 6) == Array("hello\n".utf8))
        }
    }

    /// Connection A's handler resumes connection B, whose handler then runs inside
    /// A's callback and writes while A's output is still gathered: each peer gets its
    /// own answers, whole and in order.
    @Test(arguments: IOBackend.allCases)
    func aHandlerRunningAnotherKeepsTheirOutputApart(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let relay = Relay(loop: group.loops[0])
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in RelayHandler(relay: relay) }
        let first = try BlockingClient(port: Int(server.address.port))
        first.send(Array("A".utf8))
        #expect(first.receive(count: 2) == Array("A1".utf8))
        let second = try BlockingClient(port: Int(server.address.port))
        // B's handler keeps its first byte unconsumed and pauses.
        second.send(Array("B".utf8))
        for _ in 0..<500 where !relay.secondHolds.load(ordering: .acquiring) { usleep(10_000) }
        let holds = relay.secondHolds.load(ordering: .acquiring)
        #expect(holds)
        // A's next byte makes A answer, resume B (whose handler answers inside A's
        // callback) and answer again.
        first.send(Array("A".utf8))
        #expect(first.receive(count: 4) == Array("A2A3".utf8))
        #expect(second.receive(count: 2) == Array("B1".utf8))
    }
}

/// Says hello as each connection opens.
final class Greeter: ConnectionHandler {
    func connectionDidOpen(_ connection: Connection) { connection.write(Array("hello\n".utf8)) }
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
}

/// The connections of the server's one loop, in the order they opened, and a flag for
/// the test thread.
final class Relay: Sendable {
    /// Loop-only, and checked so on every access.
    let opened: LoopBound<OpenedConnections>
    /// The second connection holds its byte unconsumed, paused.
    let secondHolds = Atomic<Bool>(false)

    init(loop: EventLoop) { opened = LoopBound(transferring: OpenedConnections(), to: loop) }

    var connections: [Connection] {
        get { opened.value.list }
        set { opened.value.list = newValue }
    }
}

/// A list of connections, kept on their loop.
final class OpenedConnections {
    var list: [Connection] = []
}

/// The second connection keeps its first byte unconsumed and pauses; each byte the
/// first sends is answered with its letter and a count, and the first's second byte
/// resumes the second in between — whose handler then runs inside the first's callback.
final class RelayHandler: ConnectionHandler {
    let relay: Relay
    private var answered = 0
    private var held = false
    init(relay: Relay) { self.relay = relay }

    func connectionDidOpen(_ connection: Connection) { relay.connections.append(connection) }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        guard let letter = bytes.first else { return 0 }
        if connection !== relay.connections.first && !held {
            held = true
            connection.pauseReading()
            relay.secondHolds.store(true, ordering: .releasing)
            return 0
        }
        answer(letter, on: connection)
        if connection === relay.connections.first, answered == 2, relay.connections.count == 2 {
            relay.connections[1].resumeReading()
            answer(letter, on: connection)
        }
        return 1
    }

    private func answer(_ letter: UInt8, on connection: Connection) {
        answered += 1
        connection.write([letter, UInt8(ascii: "0") + UInt8(answered)])
    }
}
