import Conduit
import ConduitTutorial
import Dispatch
import Foundation
import Testing

/// A blocking call made on a loop thread would wait for that same thread forever; it
/// must stop the process at once with a message instead (run in a child process).
@Suite("Blocking calls on a loop thread")
struct LoopThreadGuardTests {
    @Test func groupShutdownOnItsOwnLoopStopsWithAMessage() async {
        await #expect(processExitsWith: .failure) {
            let group = try EventLoopGroup(threads: 1)
            try group.loops[0].execute { group.syncShutdown() }
            // Without the guard the loop deadlocks and this child would exit 0 here.
            try await Task.sleep(for: .seconds(10))
        }
    }

    @Test func serverInitOnALoopOfItsGroupStopsWithAMessage() async {
        await #expect(processExitsWith: .failure) {
            let group = try EventLoopGroup(threads: 1)
            try group.loops[0].execute {
                _ = try? Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
            }
            try await Task.sleep(for: .seconds(10))
        }
    }

    @Test func gracefulShutdownOnALoopOfItsGroupStopsWithAMessage() async {
        await #expect(processExitsWith: .failure) {
            let group = try EventLoopGroup(threads: 1)
            let server = try await Server.start(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
            try group.loops[0].execute { server.syncShutdownGracefully() }
            try await Task.sleep(for: .seconds(10))
        }
    }

    /// The same calls from an ordinary thread work.
    @Test func fromAnOrdinaryThreadTheyWork() throws {
        let group = try EventLoopGroup(threads: 1)
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        #expect(server.syncShutdownGracefully(timeout: .seconds(1)) == 0)
        group.syncShutdown()
    }
}
