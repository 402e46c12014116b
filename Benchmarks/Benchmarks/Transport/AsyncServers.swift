import Conduit
import ConduitApp
import Dispatch
import Synchronization

/// The async face's servers, started from a benchmark's (synchronous) setup: the same
/// echo and search services as the synchronous ones, so a round trip compares the
/// two paths and nothing else.
enum AsyncServers {
    /// An `AsyncServer` echoing what it receives, each connection served by a task on
    /// its loop; returns its address and how to stop it.
    static func echo(on group: EventLoopGroup) throws -> (SocketAddress, () -> Void) {
        let server = try blocking { try await AsyncServer.start(group: group, address: .loopback(port: 0)) }
        let running = Task {
            await server.run { connection in
                while let bytes = try? await connection.receive() { try? await connection.send(bytes) }
            }
        }
        return (server.address, { running.cancel() })
    }

    /// An `AppServer` whose `search` is an asynchronous action with the tutorial's
    /// answer for `morpheus`.
    static func search(on group: EventLoopGroup) throws -> (SocketAddress, () -> Void) {
        var router = Router.tutorial()
        router.register(action: "search") { _, _ in .string("Follow the white rabbit. 🐰") }
        let server = try AppServer(group: group, address: .loopback(port: 0), router: router)
        return (server.address, { server.server.syncStopAccepting() })
    }

    /// Runs async `body` from synchronous code (benchmark setup, not a loop thread).
    private static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome = await Result(catching: { try await body() })
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
