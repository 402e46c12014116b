import Dispatch

extension EventLoop {
    /// Runs `body` on each of `loops`, all at once, and waits for every answer, in
    /// order; a loop that has stopped answers nil. For threads that may block (a signal
    /// thread, a command's main thread): not a loop's own, where it would wait for itself.
    package static func syncAsk<T: Sendable>(_ loops: [EventLoop], _ body: @escaping @Sendable (Int) -> T) -> [T?] {
        let answers = Locked<[T?]>(Array(repeating: nil, count: loops.count))
        let done = DispatchSemaphore(value: 0)
        var asked = 0
        for (index, loop) in loops.enumerated() {
            precondition(!loop.isInLoop, "EventLoop.syncAsk would wait for its own loop")
            do throws(SocketError) {
                try loop.execute {
                    let answer = body(index)
                    answers.withLock { $0[index] = answer }
                    done.signal()
                }
                asked += 1
            } catch {
                // Stopped: it answers nil.
            }
        }
        for _ in 0..<asked { done.wait() }
        return answers.withLock { $0 }
    }

    /// `syncAsk` for async code: the loops answer one after another, without blocking.
    package static func ask<T: Sendable>(_ loops: [EventLoop], _ body: @escaping @Sendable (Int) -> T) async -> [T?] {
        var answers: [T?] = []
        for (index, loop) in loops.enumerated() {
            answers.append(
                await withCheckedContinuation { continuation in
                    do throws(SocketError) {
                        try loop.execute { continuation.resume(returning: body(index)) }
                    } catch {
                        continuation.resume(returning: nil)
                    }
                })
        }
        return answers
    }
}
