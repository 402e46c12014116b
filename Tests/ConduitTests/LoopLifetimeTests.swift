import Conduit
import ConduitTestSupport
import ConduitTutorial
import Dispatch
import Foundation
import Glibc
import Testing

/// A loop's life has three parts: set up by the thread that made it, run by one thread,
/// finished for good once a `run()` has closed what was registered. Misuse at each edge
/// stops the process with a message naming it (the io_uring ring would otherwise be
/// touched after it was freed, or entered from a thread the kernel refuses), and work
/// given to a finished loop fails at once.
@Suite("Loop lifetime")
struct LoopLifetimeTests {
    /// A second `run()` of a loop that finished (closed everything, freed its ring).
    @Test(arguments: IOBackend.allCases)
    func aFinishedLoopRefusesToRunAgain(backend: IOBackend) async throws {
        try requireUsable(backend)
        let name = backend.rawValue
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [name = name as String] in
            let loop = try EventLoop(backend: IOBackend(rawValue: name)!)
            loop.stop()
            loop.run()
            loop.stop()
            loop.run()
        }
        #expect(result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) }?.contains("has finished") == true)
    }

    /// A connect on a loop that has finished must fail with `.loopStopped`, not queue an
    /// operation on a ring that no longer exists (or wait forever on epoll).
    @Test(arguments: IOBackend.allCases)
    func connectingOnAFinishedLoopThrows(backend: IOBackend) throws {
        try requireUsable(backend)
        let listener = LoopbackListener()
        let loop = try EventLoop(backend: backend)
        loop.stop()
        loop.run()
        #expect(throws: SocketError.self) {
            try Connection.connect(to: .loopback(port: UInt16(listener.port)), on: loop, handler: EchoHandler())
        }
        do {
            try Connection.connect(to: .loopback(port: UInt16(listener.port)), on: loop, handler: EchoHandler())
        } catch {
            #expect(error.kind == .loopStopped)
        }
    }

    /// An io_uring ring takes system calls from the thread that enabled it only; running
    /// its loop on another thread later is refused with a message saying why (the kernel
    /// would answer every call with EEXIST).
    @Test func aRingLoopRunsOnOneThreadForItsWholeLife() async throws {
        try requireUsable(.uring)
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let loop = try EventLoop(backend: .uring)
            // The stop comes through the loop's queue, so each run enters the ring.
            let first = Thread {
                try? loop.execute { loop.stop() }
                loop.run(closingRegistered: false)
            }
            first.start()
            while !first.isFinished { usleep(1000) }
            let second = Thread {
                try? loop.execute { loop.stop() }
                loop.run(closingRegistered: false)
                exit(0)
            }
            second.start()
            sleep(30)
        }
        let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(text.contains("thread"), "stderr: \(text)")
    }

    /// While a loop is stopped (`run(closingRegistered: false)` returned), its objects
    /// still belong to the thread that ran it: reaching them from another thread stops
    /// the process, where before it silently lost the ring's cancels (no FIN).
    @Test(arguments: IOBackend.allCases)
    func aStoppedLoopStillBelongsToItsThread(backend: IOBackend) async throws {
        try requireUsable(backend)
        let name = backend.rawValue
        await #expect(processExitsWith: .failure) { [name = name as String] in
            let loop = try EventLoop(backend: IOBackend(rawValue: name)!)
            let bound = LoopBound(Counted(), on: loop)
            let runner = Thread {
                loop.stop()
                loop.run(closingRegistered: false)
            }
            runner.start()
            while !runner.isFinished { usleep(1000) }
            // This thread made the loop, but another thread has run it since.
            _ = bound.value
            exit(0)
        }
    }

    /// On the thread that ran it, a stopped loop's connection still closes for real: the
    /// peer reads the end of the stream at once, without the loop running again.
    @Test(arguments: IOBackend.allCases)
    func closingOnAStoppedLoopSendsTheFIN(backend: IOBackend) throws {
        try requireUsable(backend)
        let listener = LoopbackListener()
        let loop = try EventLoop(backend: backend)
        let opened = StopOnOpen(loop: loop)
        let connection = try Connection.connect(
            to: .loopback(port: UInt16(listener.port)), on: loop, handler: opened)
        loop.run(closingRegistered: false)
        #expect(connection.isOpen)
        let peer = accept(listener.fd, nil, nil)
        #expect(peer >= 0)
        defer { close(peer) }
        var timeout = timeval(tv_sec: HangGuard.seconds, tv_usec: 0)
        setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        connection.close()
        var byte: UInt8 = 0
        #expect(receiveRetryingInterrupts(peer, &byte, 1) == 0, "the peer reads the end of the stream")
    }
}

/// Stops its loop once the connection is open.
final class StopOnOpen: ConnectionHandler {
    let loop: EventLoop
    init(loop: EventLoop) { self.loop = loop }
    func connectionDidOpen(_ connection: Connection) { loop.stop() }
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
}

/// Any loop-confined value.
final class Counted {
    var count = 0
}
