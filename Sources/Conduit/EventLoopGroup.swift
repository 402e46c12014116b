import Dispatch
import Foundation
import Synchronization

/// A fixed set of event loops, each on its own thread.
public final class EventLoopGroup: Sendable {
    /// The loops, in creation order.
    public let loops: [EventLoop]
    private let finished = DispatchGroup()
    private let nextIndex = Atomic<Int>(0)

    /// Starts `threads` loops (at least 1) with `backend`, each on a thread of its own,
    /// and returns once every one runs. Throws if a transport cannot be made or started
    /// (an epoll set, an io_uring ring the kernel refuses: `.transportFailed`); no loop is
    /// left running then.
    public convenience init(threads: Int, backend: IOBackend = .shim) throws(SocketError) {
        try self.init(threads: threads, backend: backend, ring: .standard)
    }

    /// A group whose loops' rings (`uring` only) are made as `ring` says: tests make
    /// small ones, to fill them.
    package init(threads: Int, backend: IOBackend, ring: Ring.Configuration) throws(SocketError) {
        precondition(threads > 0, "an EventLoopGroup needs at least one loop (got \(threads))")
        var loops: [EventLoop] = []
        for _ in 0..<threads { loops.append(try EventLoop(backend: backend, ring: ring)) }
        self.loops = loops
        // Each thread says whether its loop's transport started (an io_uring ring the
        // kernel refuses only now, say): the group is made whole, or not at all.
        let startups = Locked<[SocketError?]>([])
        let reported = DispatchSemaphore(value: 0)
        for (index, loop) in loops.enumerated() {
            finished.enter()
            let thread = Thread { [finished] in
                loop.run(closingRegistered: true) { error in
                    startups.withLock { $0.append(error) }
                    reported.signal()
                }
                finished.leave()
            }
            thread.name = "conduit-loop-\(index)"
            thread.start()
        }
        for _ in loops { reported.wait() }
        if let error = startups.withLock({ $0.compactMap { $0 }.first }) {
            for loop in loops { loop.stop() }
            finished.wait()
            throw error
        }
    }

    /// The backend the loops use.
    public var backend: IOBackend { loops[0].backend }

    /// The loops in turn, for spreading outgoing connections.
    public func next() -> EventLoop {
        loops[nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }

    /// Stops every loop (each runs the tasks already given to it, then closes what is
    /// registered on it; later tasks are refused) and waits for the threads to end.
    /// Blocks the calling thread: not on one of the group's loops, and not in async
    /// code (use `shutdown()` there).
    @available(*, noasync, message: "use 'await shutdown()'; this one blocks the thread")
    public func syncShutdown() {
        preconditionNotInAnyLoop("EventLoopGroup.syncShutdown")
        for loop in loops { loop.stop() }
        finished.wait()
    }

    /// Stops every loop and returns once their threads have ended; see `syncShutdown()`.
    public func shutdown() async {
        for loop in loops { loop.stop() }
        await withCheckedContinuation { continuation in
            finished.notify(queue: .global()) { continuation.resume() }
        }
    }

    /// Stops the process with a clear message when called on one of this group's
    /// loops, where `what` would wait for its own thread forever.
    func preconditionNotInAnyLoop(_ what: StaticString, file: StaticString = #fileID, line: UInt = #line) {
        for loop in loops { loop.preconditionNotInLoop(what, file: file, line: line) }
    }
}
