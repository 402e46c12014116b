import Dispatch
import Synchronization

/// How `app-server --processes` learns that its workers listen: each worker prints its
/// own `Listening on` line on the stdout pipe its parent reads, once its listener
/// accepts. Reading a line is the event; nothing is polled. (It used to scan
/// /proc/net/tcp for each worker every 20 ms, which took seconds and most of a core with
/// 40,000 sockets on the host, and gave up at a deadline while the workers served.)
final class WorkerReadiness: Sendable {
    private let listening = Atomic<Int>(0)
    /// Signalled for every worker that listens and every one that ends.
    private let progress = DispatchSemaphore(value: 0)

    /// A line a worker printed: its readiness is counted; its start-up and stop lines
    /// (the parent prints its own) are dropped; anything else is passed on.
    func read(_ line: String) {
        if line.hasPrefix("Listening on ") {
            listening.add(1, ordering: .relaxed)
            progress.signal()
        } else if !line.hasPrefix("Caught ") && !(line.hasPrefix("TLS ") && line.contains("; records in ")) {
            say(line)
        }
    }

    /// A worker ended (before or after it listened).
    func workerExited() { progress.signal() }

    /// Waits until `count` workers listen: true then; false as soon as one has ended
    /// first. The guard of `seconds` is for a worker hung in its start, far above any
    /// real start (a worker listens within a second even on a loaded machine).
    func wait(for count: Int, workers: WorkerProcesses, seconds: Double = 300) -> Bool {
        let deadline = DispatchTime.now() + seconds
        while listening.load(ordering: .relaxed) < count {
            if workers.anyExited { return false }
            if progress.wait(timeout: deadline) == .timedOut { return false }
        }
        return !workers.anyExited
    }
}
