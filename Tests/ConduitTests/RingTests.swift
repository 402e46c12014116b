import CShim
import Conduit
import ConduitTestSupport
import ConduitTutorial
import Dispatch
import Foundation
import Glibc
import Testing

/// The io_uring ring at its edges: a queue published once per submit, a full queue that
/// loses nothing, every operation counted to its last completion, receive buffers run
/// out, a completion queue that overflows, a kernel that refuses a turn, and a ring
/// that cannot be set up. Small rings reach these paths with a few connections.
@Suite("io_uring ring edges")
struct RingTests {
    /// Runs `body` on a thread of its own, which becomes the ring's issuer: a thread
    /// that enabled a ring gets an EINTR later, which must not hit the test's pool thread.
    private func onIssuerThread(_ body: @escaping @Sendable () throws -> Void) throws {
        let outcome = Locked<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        onOwnThread {
            outcome.withLock { $0 = Result { try body() } }
            done.signal()
        }
        #expect(done.wait(timeout: HangGuard.deadline()) == .success)
        try outcome.withLock { $0 }?.get()
    }

    /// Operations become visible to the kernel when submitted, not while being written.
    @Test func theTailIsPublishedOncePerSubmit() throws {
        try requireUsable(.uring)
        try onIssuerThread {
            let ring = try Ring(Ring.Configuration(entries: 8, bufferCount: 8, bufferSize: 64))
            try ring.enableOnThisThread()
            let before = ring.publishedTail
            for tag in 1...3 { ring.nop(userData: UInt64(tag)) }
            #expect(ring.publishedTail == before, "queued operations are not published yet")
            #expect(ring.unsubmitted == 3)
            #expect(ring.submit(runningDeferredWork: false))
            #expect(ring.publishedTail == before &+ 3)
            #expect(Self.collect(ring, count: 3) == [1, 2, 3])
            #expect(ring.operationsInFlight == 0)
            #expect(ring.close(within: .seconds(5)) { _ in })
        }
    }

    /// A queue that is full while the kernel refuses to take it (EAGAIN, twice) keeps
    /// every operation, in order; before, the oldest unsubmitted entry was overwritten.
    @Test func aFullQueueKeepsEveryOperationInOrder() throws {
        try requireUsable(.uring)
        try onIssuerThread {
            let ring = try Ring(Ring.Configuration(entries: 4, bufferCount: 8, bufferSize: 64))
            try ring.enableOnThisThread()
            ring.injectedFailures = [EAGAIN, EAGAIN, EAGAIN]
            for tag in 1...20 { ring.nop(userData: UInt64(tag)) }
            #expect(ring.waitingCount == 16, "4 fit the queue, the rest wait")
            #expect(ring.operationsInFlight == 20)
            ring.injectedFailures = []
            #expect(Self.collect(ring, count: 20) == Array(1...20))
            #expect(ring.operationsInFlight == 0)
            #expect(ring.waitingCount == 0)
            #expect(ring.close(within: .seconds(5)) { _ in })
        }
    }

    /// A socket that closes before its operations were submitted: they are voided, so
    /// none reaches the next socket given the same number.
    @Test func operationsForAClosedSocketAreVoided() throws {
        try requireUsable(.uring)
        try onIssuerThread {
            let ring = try Ring(Ring.Configuration(entries: 8, bufferCount: 8, bufferSize: 64))
            try ring.enableOnThisThread()
            var pair: [Int32] = [-1, -1]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair) == 0)
            let receive = Ring.userData(.receive, token: 7)
            ring.receive(pair[0], userData: receive)
            ring.forget(descriptor: pair[0])
            // The number is reused at once; the voided receive must not arm on it. dup2
            // closes the old socket and gives its number to a new one in one step: with
            // close, then socketpair, another test's thread could take the number between
            // them (it did, in a full run).
            var next: [Int32] = [-1, -1]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &next) == 0)
            let reused = pair[0]
            #expect(dup2(next[0], reused) == reused)
            close(next[0])
            _ = write(next[1], "x", 1)
            let seen = Self.collect(ring, count: 1)
            #expect(seen.count == 1)
            #expect(seen.first.map { Ring.split($0).kind } == Ring.Kind.ignored.rawValue)
            var byte: UInt8 = 0
            #expect(read(reused, &byte, 1) == 1, "the byte is still there for its owner")
            for fd in [pair[1], reused, next[1]] { close(fd) }
            #expect(ring.close(within: .seconds(5)) { _ in })
        }
    }

    /// Waits (bounded) until `count` completions have come and returns their user data.
    private static func collect(_ ring: Ring, count: Int) -> [UInt64] {
        var seen: [UInt64] = []
        for _ in 0..<HangGuard.polls where seen.count < count {
            guard let got = try? ring.wait(timeoutNanoseconds: 10_000_000) else { break }
            for index in 0..<got {
                ring.noteCompletion(ring.completions[index])
                seen.append(ring.completions[index].user_data)
            }
        }
        return seen
    }
}

extension RingTests {
    /// 64 clients send 32 KiB each at once to an echo server whose ring has 4 entries
    /// (16 completions) and 4 receive buffers of 64 bytes: receives run out of buffers
    /// and completions overflow their queue, and every byte still comes back in order.
    @Test func buffersRunOutAndCompletionsOverflowWithoutLosingAByte() throws {
        try requireUsable(.uring)
        let group = try EventLoopGroup(
            threads: 1, backend: .uring, ring: Ring.Configuration(entries: 4, bufferCount: 4, bufferSize: 64))
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let clients = try (0..<64).map { _ in try BlockingClient(port: Int(server.address.port)) }
        let failures = Locked(0)
        let everyone = DispatchGroup()
        for (index, client) in clients.enumerated() {
            nonisolated(unsafe) let client = client
            onOwnThread(group: everyone) {
                let sent = payload(count: 32 << 10, seed: UInt64(index + 1))
                client.send(sent)
                if client.receive(count: sent.count) != sent { failures.withLock { $0 += 1 } }
            }
        }
        #expect(everyone.wait(timeout: HangGuard.deadline()) == .success)
        #expect(failures.withLock { $0 } == 0)
        let counted = group.syncCounters()
        #expect(counted.receiveBufferShortages > 0, "\(counted)")
        #expect(counted.completionOverflows > 0, "\(counted)")
    }

    /// A connection closed while its send is still in the kernel (the peer reads
    /// nothing) keeps the send's bytes until that send's last completion, then lets go.
    @Test func aRetiredSendIsFreedByItsLastCompletion() throws {
        try requireUsable(.uring)
        let listener = LoopbackListener()
        defer { withExtendedLifetime(listener) {} }
        let port = UInt16(listener.port)
        let group = try EventLoopGroup(threads: 1, backend: .uring)
        defer { group.syncShutdown() }
        let loop = group.loops[0]
        let retired = DispatchSemaphore(value: 0)
        let handler = SendThenClose(retired: retired)
        try loop.execute {
            _ = try? Connection.connect(to: .loopback(port: port), on: loop, handler: handler)
        }
        #expect(retired.wait(timeout: HangGuard.deadline()) == .success)
        #expect(handler.retiredAtClose.withLock { $0 } == 1, "the send's bytes are kept while it runs")
        let counts = Locked<[Int]>([])
        for _ in 0..<HangGuard.polls {
            let done = DispatchSemaphore(value: 0)
            try loop.execute {
                counts.withLock { $0.append(loop.retiredSendCount) }
                done.signal()
            }
            done.wait()
            if counts.withLock({ $0.last }) == 0 { break }
            usleep(10_000)
        }
        #expect(counts.withLock { $0.last } == 0, "and freed by its cancel's completion")
    }

    /// A loop finished with operations in the kernel (a send blocked on a peer that does
    /// not read, receives armed) cancels them and waits for each one's last completion
    /// before the ring goes: nothing is left in flight.
    @Test func finishingWaitsForEveryOperationInFlight() throws {
        try requireUsable(.uring)
        let listener = LoopbackListener()
        defer { withExtendedLifetime(listener) {} }
        let port = UInt16(listener.port)
        let inFlight = Locked<[Int]>([])
        try onIssuerThread {
            let loop = try EventLoop(backend: .uring)
            let handler = StopOnOpen(loop: loop)
            let connection = try Connection.connect(to: .loopback(port: port), on: loop, handler: handler)
            loop.run(closingRegistered: false)
            connection.write(payload(count: 8 << 20))
            inFlight.withLock { $0.append(loop.ring?.operationsInFlight ?? -1) }
            try loop.execute { loop.stop() }
            loop.run()
            inFlight.withLock { $0.append(loop.ring?.isClosed == true ? loop.ring!.operationsInFlight : -1) }
        }
        let counts = inFlight.withLock { $0 }
        #expect(counts.first.map { $0 >= 3 } == true, "wake poll, receive, send: \(counts)")
        #expect(counts.last == 0, "closed with nothing left in flight: \(counts)")
    }
}

extension RingTests {
    /// The kernel refusing turns for a while (EAGAIN, ENOMEM) is weathered: the loop
    /// pauses and tries again, counts them, and serves on.
    @Test func transientRefusalsAreWeathered() throws {
        try requireUsable(.uring)
        let group = try EventLoopGroup(threads: 1, backend: .uring)
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let loop = group.loops[0]
        try loop.execute { loop.ring?.injectedFailures = [EAGAIN, ENOMEM, EAGAIN] }
        let client = try BlockingClient(port: Int(server.address.port))
        client.send(Array("still here".utf8))
        #expect(client.receive(count: 10) == Array("still here".utf8))
        #expect(group.syncCounters().ringRefusals == 3)
    }

    /// A fatal error from the kernel mid-run (here EPERM, as a seccomp profile would
    /// give) fails the loop: its connections close with the error, `failure` says why,
    /// and `run()` returns. It used to stop the process at a precondition.
    @Test func aFatalRingErrorFailsTheLoopNotTheProcess() throws {
        try requireUsable(.uring)
        let group = try EventLoopGroup(threads: 1, backend: .uring)
        defer { group.syncShutdown() }
        let server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let client = try BlockingClient(port: Int(server.address.port))
        client.send(Array("a".utf8))
        #expect(client.receive(count: 1) == Array("a".utf8))
        let loop = group.loops[0]
        try loop.execute { loop.ring?.injectedFailures = [EPERM] }
        #expect(client.receiveUntilClosed().closed)
        for _ in 0..<HangGuard.polls where loop.failure == nil { usleep(10_000) }
        #expect(loop.failure?.code == EPERM)
        #expect(loop.failure?.operation == "io_uring_enter")
    }

    /// A ring that cannot register its buffers says which step failed (it said
    /// `io_uring_setup`), and gives back every mapping it made on the way (counted in a
    /// process of its own, where no other test maps anything meanwhile).
    @Test func aRingThatCannotBeMadeLeaksNothing() async throws {
        try requireUsable(.uring)
        do {
            _ = try Ring(Ring.Configuration(entries: 8, bufferCount: 3, bufferSize: 64))
            Issue.record("a buffer ring of 3 was accepted")
        } catch {
            #expect(error.operation == "io_uring_register(PBUF_RING)", "\(error)")
        }
        await #expect(processExitsWith: .success) {
            // 65,536 buffers of 4 GiB: the buffer ring maps, its memory cannot.
            let impossible = Ring.Configuration(entries: 8, bufferCount: 1 << 16, bufferSize: .max)
            _ = try? Ring(impossible)
            let before = mappingCount()
            for _ in 0..<20 { _ = try? Ring(impossible) }
            exit(mappingCount() == before ? 0 : 1)
        }
    }
}

/// The process's memory mappings (lines of /proc/self/maps).
func mappingCount() -> Int {
    (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8))?.split(separator: "\n").count ?? 0
}

/// Writes 8 MiB to a peer that never reads, then closes once the ring has it in flight.
final class SendThenClose: ConnectionHandler, Sendable {
    let retired: DispatchSemaphore
    /// Sends still held by the loop right after the close.
    let retiredAtClose = Locked(-1)
    init(retired: DispatchSemaphore) { self.retired = retired }

    func connectionDidOpen(_ connection: Connection) {
        connection.write(payload(count: 8 << 20))
        connection.loop.schedule(after: .milliseconds(50)) {
            connection.close()
            self.retiredAtClose.withLock { $0 = connection.loop.retiredSendCount }
            self.retired.signal()
        }
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
}
