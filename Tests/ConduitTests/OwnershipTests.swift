import Conduit
import ConduitTutorial
import ConduitTestSupport
import Dispatch
import Synchronization
import Testing

@Suite("A server owns only its own listener and connections")
struct OwnershipTests {
    /// Stopping server A on a shared group must leave server B listening and its
    /// connections open.
    @Test(arguments: IOBackend.allCases)
    func shuttingDownOneServerLeavesAnotherAlone(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let first = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let second = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let toFirst = try BlockingClient(port: Int(first.address.port))
        let toSecond = try BlockingClient(port: Int(second.address.port))
        toFirst.send(Array("a".utf8))
        #expect(toFirst.receive(count: 1) == Array("a".utf8))
        toSecond.send(Array("b".utf8))
        #expect(toSecond.receive(count: 1) == Array("b".utf8))

        // The stop waits for A's peer to close after A's FIN, so it runs beside the peer.
        let left = Mutex(-1)
        let stopped = DispatchSemaphore(value: 0)
        onOwnThread {
            let open = first.syncShutdownGracefully(timeout: HangGuard.duration)
            left.withLock { $0 = open }
            stopped.signal()
        }
        let ended = toFirst.receiveUntilClosed()
        #expect(ended.closed && ended.bytes.isEmpty)
        toFirst.shutdownWrite()
        #expect(stopped.wait(timeout: HangGuard.deadline()) == .success)
        #expect(left.withLock { $0 } == 0)

        // B's existing connection still echoes, and B still accepts.
        toSecond.send(Array("still here".utf8))
        #expect(toSecond.receive(count: 10) == Array("still here".utf8))
        let late = try BlockingClient(port: Int(second.address.port))
        late.send(Array("new".utf8))
        #expect(late.receive(count: 3) == Array("new".utf8))
    }

    /// A group of several loops shares its port between its own loops with SO_REUSEPORT;
    /// that must not let a second server join a port that is already served.
    @Test(arguments: IOBackend.allCases)
    func aSecondServerOnABusyPortFailsWithSeveralLoops(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 2, backend: backend)
        defer { group.syncShutdown() }
        let first = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        #expect {
            _ = try Server(group: group, address: first.address) { _ in EchoHandler() }
        } throws: { error in
            (error as? SocketError)?.kind == .addressInUse
        }
    }
}
