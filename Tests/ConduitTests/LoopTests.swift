import Conduit
import ConduitTestSupport
import Dispatch
import Synchronization
import Testing

@Suite("Event loop")
struct LoopTests {
    @Test(arguments: IOBackend.allCases)
    func crossThreadExecuteAndTimersRunOnTheLoop(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let loop = group.loops[0]
        let done = DispatchSemaphore(value: 0)
        let order = OrderLog()
        try loop.execute {
            order.append("task:\(loop.isInLoop)")
            loop.schedule(after: .milliseconds(20)) {
                order.append("late")
                done.signal()
            }
            loop.schedule(after: .milliseconds(1)) { order.append("early") }
            let cancelled = loop.schedule(after: .milliseconds(5)) { order.append("cancelled") }
            cancelled.cancel()
        }
        #expect(!loop.isInLoop)
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(order.entries == ["task:true", "early", "late"])
    }
}

final class OrderLog: Sendable {
    private let items = Mutex<[String]>([])
    func append(_ item: String) { items.withLock { $0.append(item) } }
    var entries: [String] { items.withLock { $0 } }
}
