import Dispatch
import Synchronization

extension Server {
    /// Stops accepting on every loop (this server's connections stay open) and waits
    /// until its listening sockets are closed; the Unix socket file it created is
    /// removed. Blocks: not on one of the group's loops,
    /// and not in async code (use `stopAccepting()` there).
    @available(*, noasync, message: "use 'await stopAccepting()'; this one blocks the thread")
    public func syncStopAccepting() {
        group.preconditionNotInAnyLoop("Server.syncStopAccepting")
        let done = DispatchSemaphore(value: 0)
        closeListeners { done.signal() }
        done.wait()
    }

    /// Stops accepting on every loop (this server's connections stay open); returns
    /// once its listening sockets are closed and the Unix socket file it created is removed.
    public func stopAccepting() async {
        await withCheckedContinuation { continuation in closeListeners { continuation.resume() } }
    }

    /// Graceful stop of this server only: stops accepting; each connection's handler is
    /// asked to finish its work in flight (`ConnectionHandler.connectionShouldQuiesce`;
    /// by default at once), then the connection stops reading, sends what it has
    /// queued, ends its side (FIN)
    /// and reads and discards the peer's input until the peer closes, so no reset
    /// destroys a response the peer has not read yet. Waits at most `timeout` for that. Returns how many of its connections were still open
    /// at the deadline. Other servers on the group are untouched; shut the group down
    /// afterwards if nothing else uses it. Blocks: not on one of the group's loops, and
    /// not in async code (use `shutdownGracefully(timeout:)` there).
    @available(*, noasync, message: "use 'await shutdownGracefully()'; this one blocks the thread")
    @discardableResult
    public func syncShutdownGracefully(timeout: Duration = .seconds(5)) -> Int {
        group.preconditionNotInAnyLoop("Server.syncShutdownGracefully")
        syncStopAccepting()
        let drained = DispatchSemaphore(value: 0)
        closeConnectionsGracefully(drainLimit: timeout) { drained.signal() }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        _ = drained.wait(timeout: .now() + min(max(seconds, 0), 1e9))
        return openConnections
    }

    /// Graceful stop of this server only; see `syncShutdownGracefully`. Returns how many of
    /// its connections were still open when `timeout` ran out.
    @discardableResult
    public func shutdownGracefully(timeout: Duration = .seconds(5)) async -> Int {
        await stopAccepting()
        let once = ResumeOnce()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            once.arm(continuation)
            closeConnectionsGracefully(drainLimit: timeout) { once.resume() }
            Task {
                try? await Task.sleep(for: timeout)
                once.resume()
            }
        }
        return openConnections
    }

    /// Closes every connection of this server now, dropping what is queued (after a
    /// graceful stop's deadline, for connections whose handlers never finished);
    /// returns once every loop has done so.
    public func closeConnectionsNow() async {
        let connections = self.connections
        for loop in group.loops {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                do throws(SocketError) {
                    try loop.execute {
                        loop.closeNow(ownedBy: connections)
                        continuation.resume()
                    }
                } catch {
                    // A stopped loop has closed its connections already.
                    continuation.resume()
                }
            }
        }
    }

    /// The blocking form of `closeConnectionsNow` (not on a loop thread, not in async code).
    @available(*, noasync, message: "use 'await closeConnectionsNow()'; this one blocks the thread")
    public func syncCloseConnectionsNow() {
        group.preconditionNotInAnyLoop("Server.syncCloseConnectionsNow")
        let connections = self.connections
        let done = DispatchSemaphore(value: 0)
        for loop in group.loops {
            do throws(SocketError) {
                try loop.execute {
                    loop.closeNow(ownedBy: connections)
                    done.signal()
                }
            } catch {
                done.signal()
            }
        }
        for _ in group.loops { done.wait() }
    }

    private func closeListeners(_ completion: @escaping @Sendable () -> Void) {
        let remaining = Locked(listeners.count)
        let socketFile = self.socketFile
        let finishOne: @Sendable () -> Void = {
            if remaining.withLock({ count -> Int in
                count -= 1
                return count
            }) == 0 {
                // Left behind, the file would look like a server to clients (refused) and
                // have to be cleared by the next server on the path.
                socketFile?.remove()
                completion()
            }
        }
        for listener in listeners {
            do throws(SocketError) {
                try listener.loop.execute {
                    listener.value.close()
                    finishOne()
                }
            } catch {
                // A stopped loop has closed its listener already.
                finishOne()
            }
        }
    }

    private func closeConnectionsGracefully(drainLimit: Duration, whenDrained: @escaping @Sendable () -> Void) {
        let connections = self.connections
        for loop in group.loops {
            try? loop.execute { loop.quiesce(ownedBy: connections, drainLimit: drainLimit) }
        }
        connections.whenDrained(whenDrained)
    }
}

/// Resumes a continuation exactly once, whichever of several events comes first.
final class ResumeOnce: Sendable {
    private let continuation = Locked<CheckedContinuation<Void, Never>?>(nil)
    private let resumed = Atomic<Bool>(false)

    func arm(_ continuation: CheckedContinuation<Void, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume() {
        guard !resumed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        continuation.withLock { $0.take() }?.resume()
    }
}
