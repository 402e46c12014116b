/// An event loop runs tasks too: `Task(executorPreference: loop) { … }` (or a task
/// group's `addTask(executorPreference:)`) runs the task's code on the loop's thread,
/// between its I/O, instead of on Swift's global pool. Async work that serves one
/// connection then stays on that connection's loop (no thread hop when it writes), and
/// does not wait for a global pool that blocking code elsewhere may have exhausted.
/// Code run this way must not block, like any handler.
///
/// A job sent after the loop has stopped never runs: its task stays suspended, as the
/// loop's connections are closed by then.
extension EventLoop: TaskExecutor {
    /// Runs `job` on the loop thread soon.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        try? execute { job.runSynchronously(on: executor) }
    }
}
