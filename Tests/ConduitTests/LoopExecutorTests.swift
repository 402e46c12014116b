import Conduit
import ConduitTestSupport
import Dispatch
import Testing

/// An event loop as a task executor (`Task(executorPreference: loop)`).
@Suite("event loop as a task executor", .timeLimit(.minutes(1)))
struct LoopExecutorTests {
    /// Resumes after `milliseconds` from a Dispatch timer (not Swift's global pool).
    static func wait(milliseconds: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { continuation.resume() }
        }
    }

    @Test func aTaskRunsOnItsLoop() async throws {
        let group = try EventLoopGroup(threads: 1)
        let loop = group.next()
        let onLoop = await Task(executorPreference: loop) { loop.isInLoop }.value
        #expect(onLoop)
        await group.shutdown()
    }

    /// Found by an embedder: a task suspended on a loop that then stopped never
    /// resumed (its `defer` never ran). Now its jobs go to the global executor.
    @Test func aTaskOnALoopThatStopsStillFinishes() async throws {
        let group = try EventLoopGroup(threads: 1)
        let loop = group.next()
        let task = Task(executorPreference: loop) { () async -> Bool in
            await Self.wait(milliseconds: 300)
            return true
        }
        try await Task.sleep(for: .milliseconds(50))
        await group.shutdown()
        #expect(await task.value)
    }

    /// A receive awaited by a task on the connection's own loop ends with
    /// `.loopStopped` when the loop stops.
    @Test func aReceiveOnTheLoopEndsWhenTheLoopStops() async throws {
        let listener = LoopbackListener()
        let group = try EventLoopGroup(threads: 1)
        let connection = try await AsyncConnection.connect(to: .loopback(port: UInt16(listener.port)), on: group.next())
        let waiting = Task(executorPreference: connection.loop) { () async -> SocketError.Kind? in
            do {
                _ = try await connection.receive()
                return nil
            } catch let error as SocketError {
                return error.kind
            } catch {
                return nil
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        await group.shutdown()
        #expect(await waiting.value == .loopStopped)
    }
}
