import Conduit
import ConduitTestSupport
import Dispatch
import Synchronization
import Testing

/// Numbers a handler gives back are checked: a wrong one closes that connection with
/// `SocketError.Kind.misuse` instead of corrupting its buffers, and others carry on.
@Suite("Handler contract")
struct HandlerContractTests {
    enum Mistake: String, CaseIterable, Sendable {
        case consumedNegative, consumedMoreThanGiven, wroteMoreThanRoom, wroteNegative
    }

    @Test(arguments: Mistake.allCases, IOBackend.allCases)
    func aBadCountClosesOnlyThatConnection(mistake: Mistake, backend: IOBackend) throws {
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let closes = CloseLog()
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in
            MisbehavingHandler(mistake: mistake, closes: closes)
        }
        let bystander = try BlockingClient(port: server.address.port)
        let victim = try BlockingClient(port: server.address.port)
        victim.send(Array("bad".utf8))
        let (_, closed) = victim.receiveUntilClosed()
        #expect(closed)
        #expect(closes.wait() == .misuse)
        // The "ok" prefix makes the handler behave: the other connection is unharmed.
        bystander.send(Array("ok".utf8))
        #expect(bystander.receive(count: 2) == Array("ok".utf8))
    }
}

/// Echoes input starting with "ok"; otherwise makes `mistake`.
final class MisbehavingHandler: ConnectionHandler {
    let mistake: HandlerContractTests.Mistake
    let closes: CloseLog

    init(mistake: HandlerContractTests.Mistake, closes: CloseLog) {
        self.mistake = mistake
        self.closes = closes
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        if bytes.starts(with: "ok".utf8) {
            connection.write(bytes)
            return bytes.count
        }
        switch mistake {
        case .consumedNegative: return -1
        case .consumedMoreThanGiven: return bytes.count + 5
        case .wroteMoreThanRoom:
            connection.writeInPlace(capacity: 4) { _ in 5 }
            return bytes.count
        case .wroteNegative:
            connection.writeInPlace(capacity: 4) { _ in -2 }
            return bytes.count
        }
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        if let error { closes.record(error.kind) }
    }
}

/// The kind of the first error a connection closed with, awaited by the test.
final class CloseLog: Sendable {
    private let kind = Mutex<SocketError.Kind?>(nil)
    private let recorded = DispatchSemaphore(value: 0)

    func record(_ kind: SocketError.Kind) {
        self.kind.withLock { $0 = $0 ?? kind }
        recorded.signal()
    }

    func wait() -> SocketError.Kind? {
        _ = recorded.wait(timeout: .now() + 10)
        return kind.withLock { $0 }
    }
}
