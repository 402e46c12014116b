/// An event loop runs tasks too: `Task(executorPreference: loop) { … }` (or a task
/// group's `addTask(executorPreference:)`) runs the task's code on the loop's thread,
/// between its I/O, instead of on Swift's global pool. Async work that serves one
/// connection then stays on that connection's loop (no thread hop when it writes), and
/// does not wait for a global pool that blocking code elsewhere may have exhausted.
/// Code run this way must not block, like any handler.
///
/// Once the loop has stopped, its jobs run on Swift's global executor instead, so a task
/// that preferred the loop still finishes (its awaits on the loop's connections end
/// with `SocketError.Kind.loopStopped`) rather than staying suspended for ever.
extension EventLoop: TaskExecutor {
    /// Runs `job` on the loop thread soon (on the global executor once the loop has
    /// stopped).
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        do throws(SocketError) {
            try execute { job.runSynchronously(on: executor) }
        } catch {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }
}
