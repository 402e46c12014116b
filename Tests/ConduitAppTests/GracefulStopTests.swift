import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Dispatch
import Glibc
import Synchronization
import Testing

/// A graceful stop delivers every response the server produced, even to a client that
/// pipelined far more than the server read: the server stops reading, sends what it
/// has, ends its side, and drains the client's input, so no reset cuts the answers.
@Suite("Graceful stop with unread pipelined input")
struct GracefulStopTests {
    /// The server has input it never read (it paused reading) and a large answer still
    /// queued when the stop begins: the peer gets the whole answer and then an orderly
    /// end of stream. Closing with unread input would send a reset instead, which ends
    /// the peer's reads with ECONNRESET and can destroy data it has not read yet.
    @Test(arguments: IOBackend.allCases)
    func unreadInputDoesNotTurnTheCloseIntoAReset(backend: IOBackend) throws {
        try requireUsable(backend)
        let answer = payload(count: 4 << 20)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in AnswerThenPause(answer) }
        // Generous waits: under ThreadSanitizer with the suite in parallel on 2 cores, a
        // 10 s pause between two reads happened in CI. What is checked is how the
        // connection ends (end of stream, not a reset) and that nothing is lost.
        let client = try BlockingClient(port: server.address.port, socketBuffers: 64 << 10)
        client.send(Array("go".utf8))
        let first = client.receive(count: 1)
        #expect(first == [answer[0]], "the server did not answer")
        // Sent after the server paused reading: it stays unread in the server's socket.
        client.send([UInt8](repeating: 7, count: 32 << 10))

        let finished = DispatchSemaphore(value: 0)
        onOwnThread {
            _ = server.syncShutdownGracefully(timeout: HangGuard.duration)
            finished.signal()
        }
        let (rest, ending) = client.receiveToEnd()
        let received = first + rest
        client.shutdownWrite()
        #expect(finished.wait(timeout: .now() + 120) == .success)
        #expect(ending == 0, "the connection ended with errno \(ending) (a reset) instead of end of stream")
        #expect(received.count == answer.count)
        #expect(firstDifference(received, answer) == nil)
    }

    @Test(arguments: IOBackend.allCases)
    func everyProducedResponseArrivesWithoutAReset(backend: IOBackend) throws {
        try requireUsable(backend)
        let answered = Atomic<Int>(0)
        var router = Router.tutorial()
        router.register(action: "tick") { _ in
            answered.add(1, ordering: .relaxed)
            return .string("ok")
        }
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        // Small socket buffers, so the server's answers back up and it stops reading
        // (backpressure) long before it has read everything the client sent.
        let options = ServerOptions(receiveBufferSize: 64 << 10, sendBufferSize: 64 << 10)
        let app = try AppServer(group: group, address: .loopback(port: 0), router: router, options: options)
        let request = MessageEncoder.jsonMessage(.object([("action", .string("tick")), ("value", .string("x"))]))
        var response: [UInt8] = []
        try Response.result(.string("ok")).encode(into: &response)

        let client = try BlockingClient(port: app.address.port, socketBuffers: 64 << 10)
        let sent = pipelineWithoutReading(request, count: 40_000, on: client.fd)
        #expect(sent > 1_000, "the client could pipeline only \(sent) requests")

        let finished = DispatchSemaphore(value: 0)
        onOwnThread {
            _ = app.syncShutdownGracefully(timeout: HangGuard.duration)
            finished.signal()
        }
        let (received, ending) = client.receiveToEnd()
        let bytes = received.count
        // Our end of stream ends the server's drain of our input (else it drains until
        // its grace period is over).
        client.shutdownWrite()
        #expect(finished.wait(timeout: .now() + 120) == .success)
        #expect(ending == 0, "the connection ended with errno \(ending) (a reset) instead of end of stream")
        #expect(bytes % response.count == 0, "the last response was cut: \(bytes) bytes")
        #expect(bytes / response.count == answered.load(ordering: .relaxed))
        #expect(bytes > 0)
    }
}

/// Answers the first bytes it gets with `answer`, then stops reading for good.
final class AnswerThenPause: ConnectionHandler {
    let answer: [UInt8]
    init(_ answer: [UInt8]) { self.answer = answer }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        connection.write(answer)
        connection.pauseReading()
        return bytes.count
    }
}

/// Sends `count` copies of `request` without reading anything back, as far as the
/// kernel takes them; stops once sending has been blocked for 1 s (the server
/// stopped reading). Returns how many whole requests went out.
func pipelineWithoutReading(_ request: [UInt8], count: Int, on fd: Int32) -> Int {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    defer { _ = fcntl(fd, F_SETFL, flags) }
    var stream: [UInt8] = []
    for _ in 0..<count { stream += request }
    var offset = 0
    while offset < stream.count {
        let n = stream.withUnsafeBytes { send(fd, $0.baseAddress! + offset, stream.count - offset, Int32(MSG_NOSIGNAL)) }
        if n > 0 {
            offset += n
            continue
        }
        guard n < 0, errno == EAGAIN else { break }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        if poll(&poller, 1, 1000) == 0 { break }
    }
    return offset / request.count
}

/// A peer that stays connected between requests does not hold a graceful stop: it held
/// it for the whole grace period (5.5 s with a 5 s grace; SwiftNIO's server exits in
/// 2 s). With nothing unread and nothing unsent the connection closes when the stop
/// begins: here with a grace of 60 s, the stop returns with nothing left to close.
@Suite("Graceful stop with idle peers")
struct IdleStopTests {
    @Test(arguments: IOBackend.allCases)
    func anIdleAppConnectionClosesWhenTheStopBegins(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await AppServer.start(group: group, address: .loopback(port: 0))
        let client = try BlockingClient(port: server.address.port)
        let fd = client.fd
        let answer = try await offThePool {
            sendAll(fd, Vectors.searchMorpheus)
            return receiveExactly(fd, Vectors.morpheusResponse.count)
        }
        #expect(answer == Vectors.morpheusResponse)
        let left = await server.shutdownGracefully(timeout: HangGuard.duration)
        #expect(left == 0, "the idle connection was held until the deadline")
        #expect(try await offThePool { () -> Int in
            var byte: UInt8 = 0
            return receiveRetryingInterrupts(fd, &byte, 1)
        } == 0, "the peer reads the end of the stream")
        withExtendedLifetime(client) {}
        await group.shutdown()
    }

    @Test(arguments: IOBackend.allCases)
    func anIdleAsyncConnectionClosesWhenTheStopBegins(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await AsyncServer.start(group: group, address: .loopback(port: 0))
        let serving = Task {
            await server.run(gracePeriod: HangGuard.duration) { connection in
                do {
                    for try await line in connection.messages(LineFraming()) { try await connection.send(line) }
                } catch {}
                await connection.close()
            }
        }
        // The blocking client off Swift's pool, which serves the server's accept loop.
        let client = try BlockingClient(port: server.address.port)
        let fd = client.fd
        let echo = try await offThePool {
            sendAll(fd, Array("hello\n".utf8))
            return receiveExactly(fd, 6)
        }
        #expect(echo == Array("hello\n".utf8))
        let left = await server.shutdownGracefully(timeout: HangGuard.duration)
        #expect(left == 0, "the idle connection was held until the deadline")
        #expect(try await offThePool { () -> Int in
            var byte: UInt8 = 0
            return receiveRetryingInterrupts(fd, &byte, 1)
        } == 0, "the peer reads the end of the stream")
        withExtendedLifetime(client) {}
        serving.cancel()
        await serving.value
        await group.shutdown()
    }
}
