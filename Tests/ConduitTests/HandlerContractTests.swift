import Conduit
import ConduitTestSupport
import Dispatch
import Glibc
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
        try requireUsable(backend)
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

extension HandlerContractTests {
    /// epoll refusing an interest change (`EPOLL_CTL_MOD` failing) closes that connection
    /// with the error; it used to stop the whole process. Not for `uring`: its open
    /// connections are not in the epoll set at all.
    @Test(arguments: [IOBackend.shim, .swift])
    func aRefusedInterestChangeClosesOnlyThatConnection(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let closes = CloseLog()
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in
            DescriptorSwapper(closes: closes)
        }
        let bystander = try BlockingClient(port: server.address.port)
        let victim = try BlockingClient(port: server.address.port)
        victim.send(Array("swap".utf8))
        #expect(closes.waitForError()?.operation == "epoll_ctl(MOD)")
        bystander.send(Array("ok".utf8))
        #expect(bystander.receive(count: 2) == Array("ok".utf8))
    }
}

/// On "swap", puts /dev/null in place of its socket's descriptor (so epoll no longer
/// knows the descriptor) and then asks epoll for a change; echoes anything else.
final class DescriptorSwapper: ConnectionHandler {
    let closes: CloseLog
    init(closes: CloseLog) { self.closes = closes }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.starts(with: "swap".utf8) else {
            connection.write(bytes)
            return bytes.count
        }
        let null = open("/dev/null", O_RDONLY)
        dup2(null, connection.descriptor)
        close(null)
        connection.pauseReading()
        return bytes.count
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        if let error { closes.record(error) }
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
        if let error { closes.record(error) }
    }
}

/// The first error a connection closed with, awaited by the test.
final class CloseLog: Sendable {
    private let error = Mutex<SocketError?>(nil)
    private let recorded = DispatchSemaphore(value: 0)

    func record(_ error: SocketError) {
        self.error.withLock { $0 = $0 ?? error }
        recorded.signal()
    }

    func record(_ kind: SocketError.Kind) { record(SocketError(kind, operation: "\(kind)")) }

    func waitForError() -> SocketError? {
        _ = recorded.wait(timeout: HangGuard.deadline())
        return error.withLock { $0 }
    }

    func wait() -> SocketError.Kind? { waitForError()?.kind }
}
