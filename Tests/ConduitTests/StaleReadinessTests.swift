import Conduit
import ConduitTestSupport
import Dispatch
import Glibc
import Synchronization
import Testing

/// An event already in epoll's batch for a descriptor that was closed and reused
/// during that batch must not reach the descriptor's new owner.
@Suite("Stale readiness after descriptor reuse", .serialized)
struct StaleReadinessTests {
    /// The scenario needs the new socket to get exactly the closed one's descriptor;
    /// other tests running in this process may take it first (with the whole suite in
    /// parallel, 50 tries once all missed), so it is tried until it happens (at most 400
    /// times or 60 s), and every time it happens the stale event must be dropped.
    @Test(arguments: IOBackend.allCases)
    func aStaleEventDoesNotCompleteANewConnect(backend: IOBackend) throws {
        try requireUsable(backend)
        var reusedRuns = 0
        let deadline = ContinuousClock.now + .seconds(60)
        for _ in 0..<400 where reusedRuns < 3 && ContinuousClock.now < deadline {
            let outcome = try Self.attempt(backend: backend)
            guard outcome.reused else { continue }
            reusedRuns += 1
            #expect(!outcome.newConnectionOpened, "a stale event for the old descriptor completed the new connect")
        }
        #expect(reusedRuns > 0, "the new socket never got the closed one's descriptor: the scenario did not happen")
    }

    static func attempt(backend: IOBackend) throws -> ReuseScenario.Outcome {
        // A listener whose accept queue is full: a connect to it stays in progress
        // (the kernel drops the SYN), so only a wrong event could make it "open".
        let full = try FullListener()
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let loop = group.loops[0]
        let scenario = ReuseScenario(blockedTarget: .loopback(port: full.port))
        let server = try Server(group: group, address: .loopback(port: 0)) { connection in
            scenario.accepted(connection)
        }
        let first = try BlockingClient(port: server.address.port)
        #expect(scenario.acceptedOne.wait(timeout: HangGuard.deadline()) == .success)
        let second = try BlockingClient(port: server.address.port)
        #expect(scenario.acceptedOne.wait(timeout: HangGuard.deadline()) == .success)

        // Hold the loop while both become readable, first then second, so one
        // epoll_wait returns both events in that order.
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        try loop.execute {
            holding.signal()
            release.wait()
        }
        #expect(holding.wait(timeout: HangGuard.deadline()) == .success)
        first.send([1])
        second.send([2])
        release.signal()

        // A task queued now runs after that batch has been handled.
        let handled = DispatchSemaphore(value: 0)
        try loop.execute { handled.signal() }
        #expect(handled.wait(timeout: HangGuard.deadline()) == .success)
        return scenario.outcome
    }
}

/// The first accepted connection, on reading, closes the second and connects to a
/// listener that will not answer; the second's event is then stale.
final class ReuseScenario: Sendable {
    struct Outcome: Sendable {
        var reused = false
        var newConnectionOpened = false
    }

    let acceptedOne = DispatchSemaphore(value: 0)
    private let state = Mutex(Outcome())
    private let blockedTarget: SocketAddress
    /// Touched only on the server's one loop thread.
    nonisolated(unsafe) private var trigger: Trigger?

    init(blockedTarget: SocketAddress) { self.blockedTarget = blockedTarget }

    var outcome: Outcome { state.withLock { $0 } }

    func accepted(_ connection: Connection) -> ConnectionHandler {
        defer { acceptedOne.signal() }
        guard let trigger else {
            let first = Trigger(scenario: self)
            trigger = first
            return first
        }
        trigger.victim = connection
        return Victim()
    }

    func record(_ change: (inout Outcome) -> Void) { state.withLock { change(&$0) } }

    /// Reads the first byte, then closes the victim and reuses its descriptor.
    final class Trigger: ConnectionHandler {
        var victim: Connection?
        /// Unowned: the scenario holds this trigger.
        unowned let scenario: ReuseScenario
        init(scenario: ReuseScenario) { self.scenario = scenario }

        func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
            guard let victim else { return bytes.count }
            self.victim = nil
            let oldDescriptor = victim.descriptor
            // Fill every free descriptor below the victim's, so the next socket gets
            // exactly the victim's number once it is closed.
            var fillers: [Int32] = []
            while true {
                let filler = open("/dev/null", O_RDONLY)
                if filler < 0 || filler > oldDescriptor {
                    if filler >= 0 { Glibc.close(filler) }
                    break
                }
                fillers.append(filler)
            }
            defer { for filler in fillers { Glibc.close(filler) } }
            victim.close()
            let scenario = self.scenario
            if let fresh = try? Connection.connect(
                to: scenario.blockedTarget, on: connection.loop, handler: Watcher(scenario: scenario))
            {
                scenario.record { $0.reused = fresh.descriptor == oldDescriptor }
            }
            return bytes.count
        }
    }

    /// The connection that gets closed while its event is still in the batch.
    final class Victim: ConnectionHandler {
        func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
    }

    /// Owns the reused descriptor; its connect must not complete.
    final class Watcher: ConnectionHandler {
        let scenario: ReuseScenario
        init(scenario: ReuseScenario) { self.scenario = scenario }
        func connectionDidOpen(_ connection: Connection) { scenario.record { $0.newConnectionOpened = true } }
        func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
    }
}

/// A listener with a backlog of 0 and one connection already waiting in its accept
/// queue, so further SYNs are dropped and connects to it stay in progress.
final class FullListener {
    private let listener = LoopbackListener(backlog: 0)
    private let waiting: BlockingClient
    var port: UInt16 { UInt16(listener.port) }

    init() throws { waiting = try BlockingClient(port: listener.port) }
}
