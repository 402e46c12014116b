import CShim
import Conduit
import ConduitTestSupport
import ConduitTutorial
import Dispatch
import Foundation
import Glibc
import Testing

/// Every async call can be stopped: by cancelling its task, by its deadline, by an
/// abort. Before, a send to a peer that stopped reading ignored its task's
/// cancellation (still blocked 30 s later), and `close()` returned while the send stayed
/// blocked and the descriptor stayed open.
@Suite("async client: every call can be stopped")
struct AsyncStoppingTests {
    /// A peer that accepts and never reads: what the client sends piles up.
    static func nonReadingPeer(backend: IOBackend) async throws -> (AsyncConnection, EventLoopGroup, Int32, LoopbackListener) {
        let listener = LoopbackListener()
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let connection = try await AsyncConnection.connect(
            to: .loopback(port: UInt16(listener.port)), on: group.next(),
            options: ConnectOptions(sendBufferSize: 65_536))
        let peer = accept(listener.fd, nil, nil)
        #expect(peer >= 0)
        var small: Int32 = 65_536
        setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        return (connection, group, peer, listener)
    }

    @Test(arguments: IOBackend.allCases)
    func aBlockedSendEndsWhenItsTaskIsCancelled(backend: IOBackend) async throws {
        try requireUsable(backend)
        let (connection, group, peer, listener) = try await Self.nonReadingPeer(backend: backend)
        defer { close(peer); withExtendedLifetime(listener) {} }
        let blocked = Task { try await connection.send(payload(count: 16 << 20)) }
        try await Task.sleep(for: .milliseconds(100))
        blocked.cancel()
        let outcome = await blocked.result
        #expect((outcome.failure as? SocketError)?.kind == .cancelled, "\(outcome)")
        await connection.abort()
        await group.shutdown()
    }

    @Test(arguments: IOBackend.allCases)
    func aBlockedSendEndsAtItsDeadline(backend: IOBackend) async throws {
        try requireUsable(backend)
        let (connection, group, peer, listener) = try await Self.nonReadingPeer(backend: backend)
        defer { close(peer); withExtendedLifetime(listener) {} }
        await #expect {
            try await connection.send(payload(count: 16 << 20), timeout: .milliseconds(200))
        } throws: { ($0 as? SocketError)?.kind == .timedOut }
        await connection.abort()
        await group.shutdown()
    }

    /// `close()` with output the peer will never read returns once the connection is
    /// closed (here after a 300 ms send deadline), and the peer sees it go.
    @Test(arguments: IOBackend.allCases)
    func closeReturnsOnceClosedEvenIfThePeerNeverReads(backend: IOBackend) async throws {
        try requireUsable(backend)
        let listener = LoopbackListener()
        defer { withExtendedLifetime(listener) {} }
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let connection = try await AsyncConnection.connect(
            to: .loopback(port: UInt16(listener.port)), on: group.next(),
            options: ConnectOptions(sendBufferSize: 65_536), deadlines: AsyncConnection.Deadlines(send: .milliseconds(300)))
        let peer = accept(listener.fd, nil, nil)
        defer { close(peer) }
        let waiting = Task { try await connection.send(payload(count: 16 << 20), timeout: .seconds(3600)) }
        try await Task.sleep(for: .milliseconds(100))
        await connection.close()
        let outcome = await waiting.result
        #expect(outcome.failure != nil, "the waiting send ends once the connection closes: \(outcome)")
        // The peer's socket sees the end (a reset: what it never read was dropped).
        var drain = [UInt8](repeating: 0, count: 1 << 16)
        var timeout = timeval(tv_sec: HangGuard.seconds, tv_usec: 0)
        setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var ended = false
        for _ in 0..<100_000 where !ended {
            let got = recv(peer, &drain, drain.count, 0)
            ended = got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)
        }
        #expect(ended)
        await group.shutdown()
    }

    @Test(arguments: IOBackend.allCases)
    func receivesAndRequestsHaveDeadlines(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        // A server that never answers.
        let server = try await Server.start(group: group, address: .loopback(port: 0)) { _ in SilentHandler() }
        let connection = try await AsyncConnection.connect(
            to: server.address, on: group.next(), deadlines: AsyncConnection.Deadlines(receive: .milliseconds(100)))
        await #expect { _ = try await connection.receive() } throws: { ($0 as? SocketError)?.kind == .timedOut }
        await #expect {
            _ = try await connection.request(Array("x\n".utf8), framing: LineFraming(), timeout: .milliseconds(100))
        } throws: { ($0 as? SocketError)?.kind == .timedOut }
        await connection.abort()
        await group.shutdown()
    }

    /// A connect to a listener whose accept queue is full never completes (the kernel
    /// drops the SYN): its deadline ends it.
    @Test(arguments: IOBackend.allCases)
    func aConnectHasADeadline(backend: IOBackend) async throws {
        try requireUsable(backend)
        let full = try FullListener()
        let group = try EventLoopGroup(threads: 1, backend: backend)
        await #expect {
            _ = try await AsyncConnection.connect(
                to: .loopback(port: full.port), on: group.next(), deadlines: AsyncConnection.Deadlines(connect: .milliseconds(200)))
        } throws: { ($0 as? SocketError)?.kind == .timedOut }
        await group.shutdown()
    }

    /// `abort()` drops what is unsent: the peer gets a reset, not the 16 MiB.
    @Test(arguments: IOBackend.allCases)
    func abortDropsWhatIsUnsent(backend: IOBackend) async throws {
        try requireUsable(backend)
        let (connection, group, peer, listener) = try await Self.nonReadingPeer(backend: backend)
        defer { close(peer); withExtendedLifetime(listener) {} }
        let waiting = Task { try await connection.send(payload(count: 16 << 20)) }
        try await Task.sleep(for: .milliseconds(100))
        await connection.abort()
        #expect(await waiting.result.failure != nil)
        var total = 0
        var drain = [UInt8](repeating: 0, count: 1 << 16)
        var timeout = timeval(tv_sec: HangGuard.seconds, tv_usec: 0)
        setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while true {
            let got = recv(peer, &drain, drain.count, 0)
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            total += got
        }
        #expect(total < 16 << 20, "the whole payload arrived: \(total) bytes")
        await group.shutdown()
    }

    /// A message's payload without what the framing adds: a line without its newline,
    /// an app message's content without its headers (they were included before).
    @Test func payloadsLeaveTheFramingOut() async throws {
        let group = try EventLoopGroup(threads: 1)
        let server = try await Server.start(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let connection = try await AsyncConnection.connect(to: server.address, on: group.next())
        try await connection.send(Array("one\ntwo\n".utf8))
        var lines: [String] = []
        for try await line in connection.payloads(LineFraming()) {
            lines.append(String(decoding: line, as: UTF8.self))
            if lines.count == 2 { break }
        }
        #expect(lines == ["one", "two"])
        await connection.close()
        await group.shutdown()
    }
}

/// Reads everything and answers nothing.
final class SilentHandler: ConnectionHandler {
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
}

/// The pattern of issue 18's suspected leak: send a request, cancel the waiting receive
/// after 5 ms, close before the answer arrives (20 ms), 500 connections at a time. The
/// memory malloc has handed out stays flat from one round of 10,000 to the next
/// (measured in a process of its own, where no other test allocates meanwhile).
@Suite("async client: cancelled receives leave nothing behind")
struct AsyncCancelledReceiveMemoryTests {
    @Test func memoryStaysFlatOverManyConnections() async throws {
        if let sanitizer = ProcessInfo.processInfo.environment["CONDUIT_SANITIZER"] {
            // A sanitizer's allocator is not malloc's: mallinfo2 counts nothing there.
            try Test.cancel("malloc's own counts mean nothing under the \(sanitizer) sanitizer")
        }
        await #expect(processExitsWith: .success) {
            let serverGroup = try EventLoopGroup(threads: 1)
            let server = try await Server.start(group: serverGroup, address: .loopback(port: 0)) { _ in LateAnswer() }
            let group = try EventLoopGroup(threads: 1)
            func round(_ count: Int) async {
                for _ in 0..<(count / 500) {
                    await withTaskGroup(of: Void.self) { tasks in
                        for _ in 0..<500 {
                            tasks.addTask {
                                guard let connection = try? await AsyncConnection.connect(to: server.address, on: group.next())
                                else { return }
                                try? await connection.send(Array("hello\n".utf8))
                                let waiting = Task { try await connection.receive() }
                                try? await Task.sleep(for: .milliseconds(5))
                                waiting.cancel()
                                _ = await waiting.result
                                await connection.close()
                            }
                        }
                    }
                }
            }
            await round(5_000)
            var growth: [Int] = []
            for _ in 0..<3 {
                let before = cshim_malloc_in_use()
                await round(10_000)
                // The server's late answers and its timers settle.
                try await Task.sleep(for: .milliseconds(100))
                growth.append(Int(cshim_malloc_in_use()) - Int(before))
            }
            // 10,000 connections a round: a leak of even 100 bytes each shows as 1 MB.
            exit(growth.allSatisfy { $0 < 512 << 10 } ? 0 : 1)
        }
    }
}

/// Answers what it receives 20 ms later (the client has gone by then).
final class LateAnswer: ConnectionHandler {
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        let copy = Array(bytes)
        connection.loop.schedule(after: .milliseconds(20)) { connection.write(copy) }
        return bytes.count
    }
}
