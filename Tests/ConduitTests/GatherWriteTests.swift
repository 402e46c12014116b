import Conduit
import ConduitTestSupport
import Dispatch
import Synchronization
import Testing

/// `Connection.write(_:_:)` sends a header and a body with one `writev` when nothing is
/// queued (outside a handler callback), and queues what the kernel does not take, in order.
@Suite("Gather writes")
struct GatherWriteTests {
    @Test(arguments: IOBackend.allCases)
    func headerAndLargeBodyArriveInOrder(backend: IOBackend) throws {
        try requireUsable(backend)
        let header = Array("HEADER:".utf8)
        let body = payload(count: 4 << 20, seed: 7)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let opened = OpenedConnection()
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in opened }
        let client = try BlockingClient(port: Int(server.address.port))
        let connection = try #require(opened.wait())
        // Twice from a loop task: the second write finds part of the first still queued.
        for _ in 0..<2 {
            try connection.loop.execute {
                header.withUnsafeBytes { head in body.withUnsafeBytes { connection.value.write(head, $0) } }
            }
        }
        let expected = header + body + header + body
        let received = client.receive(count: expected.count)
        #expect(received.count == expected.count)
        #expect(firstDifference(received, expected) == nil)
    }
}

/// Hands the test its (only) connection, bound to its loop.
final class OpenedConnection: ConnectionHandler, Sendable {
    private let connection = Mutex<LoopBound<Connection>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func connectionDidOpen(_ connection: Connection) {
        let bound = LoopBound(connection, on: connection.loop)
        self.connection.withLock { $0 = bound }
        ready.signal()
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }

    func wait() -> LoopBound<Connection>? {
        _ = ready.wait(timeout: HangGuard.deadline())
        return connection.withLock { $0 }
    }
}
