import Conduit
import ConduitTestSupport
import ConduitTutorial
import Testing

@Suite("Work given to a stopped loop fails at once")
struct StoppedLoopTests {
    /// A receive that is waiting, or one started after the group stopped, must end with
    /// an error rather than wait forever for a loop that will never run it.
    @Test(arguments: IOBackend.allCases)
    func receiveAfterShutdownThrows(backend: IOBackend) async throws {
        try requireUsable(backend)
        let serverGroup = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await Server.start(group: serverGroup, address: .loopback(port: 0)) { _ in EchoHandler() }
        let clientGroup = try EventLoopGroup(threads: 1, backend: backend)
        let connection = try await AsyncConnection.connect(to: server.address, on: clientGroup.next())
        await clientGroup.shutdown()
        let receiveOutcome: @Sendable () async -> String = {
            do {
                _ = try await connection.receive()
                return "returned"
            } catch {
                return "threw"
            }
        }
        // Once while the loop is gone, and once more: both must end with an error.
        #expect(await withTimeout(seconds: 10, receiveOutcome) == "threw")
        #expect(await withTimeout(seconds: 10, receiveOutcome) == "threw")
        await serverGroup.shutdown()
    }
}

/// Runs `body`, but answers "timed out" if it has not finished after `seconds`.
func withTimeout(seconds: Int, _ body: @escaping @Sendable () async -> String) async -> String {
    await withTaskGroup(of: String.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return "timed out"
        }
        let first = await group.next()!
        group.cancelAll()
        return first
    }
}
