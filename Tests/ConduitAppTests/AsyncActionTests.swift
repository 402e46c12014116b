import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Dispatch
import Foundation
import Glibc
import Testing

/// Asynchronous actions (`Router.register(action:async:)`): they await without
/// blocking their loop, their answers keep the requests' order, and a graceful stop
/// waits for them.
/// Waits like an outside service would (a Dispatch timer resumes the task), not with
/// `Task.sleep`, whose timer needs Swift's global pool: tests that block its threads
/// would then delay the answer.
func externalWait(milliseconds: Int) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { continuation.resume() }
    }
}

/// Runs blocking client code on a thread of its own: blocking a thread of Swift's
/// cooperative pool (two of them here) would starve the tasks the actions run in.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        onOwnThread { continuation.resume(with: Result { try body() }) }
    }
}

/// An app server on its own group for an async test; shut down afterwards.
func withAsyncAppServer<R: Sendable>(
    backend: IOBackend, router: Router, _ body: @escaping @Sendable (Int) throws -> R
) async throws -> R {
    let group = try EventLoopGroup(threads: 1, backend: backend)
    let server = try await AppServer.start(group: group, address: .loopback(port: 0), router: router)
    let port = server.address.port
    do {
        let result = try await offThePool { try body(port) }
        await group.shutdown()
        return result
    } catch {
        await group.shutdown()
        throw error
    }
}

@Suite("Async actions on the app server")
struct AsyncActionTests {
    /// `sleep` waits `value` milliseconds and answers with it.
    static var router: Router {
        var router = Router.tutorial()
        router.register(action: "sleep") { request, _ in
            let milliseconds = Int(request["value"]?.stringValue ?? "0") ?? 0
            await externalWait(milliseconds: milliseconds)
            return .string("slept \(milliseconds)")
        }
        return router
    }

    static func sleep(_ milliseconds: Int) -> [UInt8] { request("sleep", String(milliseconds)) }

    /// A `text/json` request for any action (`AppRequest` sends other actions as binary,
    /// as the tutorial's client does).
    static func request(_ action: String, _ value: String) -> [UInt8] {
        MessageEncoder.jsonMessage(.object([(key: "action", value: .string(action)), (key: "value", value: .string(value))]))
    }

    static func encoded(_ responses: [Response]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for response in responses { try response.encode(into: &bytes) }
        return bytes
    }

    /// Pipelined requests whose actions finish in another order are answered in the
    /// order they came, synchronous ones among them; the last, sent with nothing after
    /// it, is answered too (no pipelined tail is stranded).
    @Test(arguments: IOBackend.allCases)
    func answersKeepTheRequestOrder(backend: IOBackend) async throws {
        try requireUsable(backend)
        try await withAsyncAppServer(backend: backend, router: Self.router) { port in
            // 60 s: under ThreadSanitizer in CI nothing arrived within the default 10 s.
            let client = try BlockingClient(port: port)
            client.send(Self.sleep(300) + Self.sleep(10) + Vectors.searchMorpheus + Self.sleep(150) + Vectors.searchDog)
            let expected = try Self.encoded([
                .result(.string("slept 300")), .result(.string("slept 10")), .result(.string("Follow the white rabbit. 🐰")),
                .result(.string("slept 150")), .result(.string("🐾 Playing ball! 🏐")),
            ])
            #expect(client.receive(count: expected.count) == expected)
        }
    }

    /// More requests than may run at once (64): reading pauses and resumes, and every
    /// one is answered, in order, although the client sends nothing after them.
    @Test(arguments: IOBackend.allCases)
    func manyPipelinedAsyncRequestsAreAllAnswered(backend: IOBackend) async throws {
        try requireUsable(backend)
        try await withAsyncAppServer(backend: backend, router: Self.router) { port in
            let client = try BlockingClient(port: port)
            let delays = (0..<300).map { ($0 * 7) % 20 }
            client.send(delays.flatMap(Self.sleep))
            let expected = try Self.encoded(delays.map { .result(.string("slept \($0)")) })
            let received = client.receive(count: expected.count)
            #expect(received.count == expected.count)
            #expect(firstDifference(received, expected) == nil)
        }
    }

    /// While one client's action awaits for three seconds, the loop serves another at
    /// once: its answer comes well before the first one's.
    @Test(arguments: IOBackend.allCases)
    func anAwaitingActionDoesNotBlockItsLoop(backend: IOBackend) async throws {
        try requireUsable(backend)
        try await withAsyncAppServer(backend: backend, router: Self.router) { port in
            let slow = try BlockingClient(port: port)
            slow.send(Self.sleep(3000))
            usleep(50_000)
            let other = try BlockingClient(port: port)
            let started = Date()
            other.send(Vectors.searchMorpheus)
            #expect(other.receive(count: Vectors.morpheusResponse.count) == Vectors.morpheusResponse)
            #expect(Date().timeIntervalSince(started) < 2)
            let answer = try Self.encoded([.result(.string("slept 3000"))])
            #expect(slow.receive(count: answer.count) == answer)
        }
    }

    /// Before: with a 1.5 s async request in flight, SIGTERM gave the client end of
    /// stream with 0 bytes after 0.3 s. Now the graceful stop waits for the answer.
    @Test(arguments: IOBackend.allCases)
    func aGracefulStopDeliversTheAnswerInFlight(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await AppServer.start(group: group, address: .loopback(port: 0), router: Self.router)
        let port = server.address.port
        let reading = Task {
            try await offThePool { () throws -> ([UInt8], Int32) in
                let client = try BlockingClient(port: port)
                client.send(Self.sleep(1500))
                return client.receiveToEnd()
            }
        }
        // The stop must come while the action runs (a busy machine may take a while to
        // get the client going).
        for _ in 0..<HangGuard.polls where await server.counters().asyncActions == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let left = await server.shutdownGracefully(timeout: HangGuard.duration)
        #expect(left == 0)
        let (bytes, ending) = try await reading.value
        #expect(try decodeResponses(bytes) == [.result(.string("slept 1500"))])
        #expect(ending == 0, "errno \(ending) instead of an orderly end of stream")
        await group.shutdown()
    }

    /// An action still running at the graceful stop's deadline is cancelled and its
    /// connection closed (found by an embedder: both were left behind).
    @Test func anActionPastTheDeadlineIsCancelledAndItsConnectionClosed() async throws {
        let cancelled = Locked(false)
        let started = Locked(false)
        var router = Router.tutorial()
        router.register(action: "forever") { _, _ in
            started.withLock { $0 = true }
            return await withTaskCancellationHandler {
                await externalWait(milliseconds: 60_000)
                return .string("too late")
            } onCancel: {
                cancelled.withLock { $0 = true }
            }
        }
        let group = try EventLoopGroup(threads: 1)
        let server = try await AppServer.start(group: group, address: .loopback(port: 0), router: router)
        let port = server.address.port
        let reading = Task {
            try await offThePool { () throws -> Int32 in
                // The close comes from this test's own task, which ThreadSanitizer's
                // starved pool delayed past 30 s once in CI: wait long, the assertion is
                // only that the close comes at all.
                let client = try BlockingClient(port: port, timeoutSeconds: 300)
                client.send(Self.request("forever", ""))
                return client.receiveToEnd().ending
            }
        }
        // The stop must come while the action runs (a busy machine may take a while
        // to get the client going).
        for _ in 0..<HangGuard.polls where !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(started.withLock { $0 })
        let left = await server.shutdownGracefully(timeout: .milliseconds(500))
        #expect(left == 1)
        #expect(server.server.openConnections == 0)
        #expect(cancelled.withLock { $0 })
        let ending = try await reading.value
        #expect(ending != EAGAIN, "the client was left waiting")
        await group.shutdown()
    }

    /// A thrown error is answered as `Error: …`, in its place.
    @Test func aThrowingActionIsAnsweredWithItsError() async throws {
        struct Unavailable: Error, CustomStringConvertible { var description: String { "database unavailable" } }
        var router = Router.tutorial()
        router.register(action: "fail") { _, _ in throw Unavailable() }
        try await withAsyncAppServer(backend: .shim, router: router) { port in
            let client = try BlockingClient(port: port)
            client.send(Self.request("fail", "") + Vectors.searchMorpheus)
            let expected = try Self.encoded([.error("database unavailable"), .result(.string("Follow the white rabbit. 🐰"))])
            #expect(client.receive(count: expected.count) == expected)
        }
    }
}
