import Dispatch
import Foundation
import Synchronization

/// A fixed set of event loops, each on its own thread.
public final class EventLoopGroup: Sendable {
    /// The loops, in creation order.
    public let loops: [EventLoop]
    private let finished = DispatchGroup()
    private let nextIndex = Atomic<Int>(0)

    /// Starts `threads` loops with `backend`. Throws if an epoll set cannot be made.
    public init(threads: Int, backend: IOBackend = .shim) throws(SocketError) {
        precondition(threads > 0, "a group needs at least one loop")
        var loops: [EventLoop] = []
        for _ in 0..<threads { loops.append(try EventLoop(backend: backend)) }
        self.loops = loops
        for (index, loop) in loops.enumerated() {
            finished.enter()
            let thread = Thread { [finished] in
                loop.run()
                finished.leave()
            }
            thread.name = "conduit-loop-\(index)"
            thread.start()
        }
    }

    /// The backend the loops use.
    public var backend: IOBackend { loops[0].backend }

    /// The loops in turn, for spreading outgoing connections.
    public func next() -> EventLoop {
        loops[nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }

    /// Stops every loop (each closes what is registered on it) and waits for the
    /// threads to end. Must not be called from one of the group's loops.
    public func shutdown() {
        for loop in loops { loop.stop() }
        finished.wait()
    }
}
