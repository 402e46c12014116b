import Conduit
import Dispatch
import Glibc
import Synchronization

/// What a server does with each signal, taken from before it starts listening:
///
/// - SIGINT, SIGTERM, SIGHUP: the first stops the server gracefully (`wait()` returns
///   its name); a second, of any of the three, ends the process at once with status
///   128 + its number, without waiting for connections to finish.
/// - SIGUSR1: one status line on stderr (see `onStatus`); the server keeps running.
/// - SIGUSR2: a TLS server reads its certificate and key again (`onReload`); new
///   connections use them, open ones keep theirs. Without TLS, ignored with a line.
/// - SIGALRM: a line saying it is ignored; it no longer ends a server.
final class ServerSignals: Sendable {
    private let state: State
    private let events: SignalEvents

    /// `wake`, when given, is signalled on the first termination signal instead of a
    /// semaphore of our own, for a caller that also waits for other things.
    init(wake: DispatchSemaphore = DispatchSemaphore(value: 0)) {
        let state = State(caught: wake)
        self.state = state
        events = SignalEvents(SignalEvents.termination + [SIGUSR1, SIGUSR2, SIGALRM]) { [state] number, _ in
            state.handle(number)
        }
    }

    deinit { events.cancel() }

    /// Blocks until the first termination signal and returns its name.
    func wait() -> String {
        state.caught.wait()
        return caught ?? "SIGTERM"
    }

    /// The name of the first termination signal, if one has arrived.
    var caught: String? { state.first.withLock { $0 }.map(ProcessSignals.name) }

    /// The SIGUSR1 line, once there is something to report.
    func onStatus(_ status: @escaping @Sendable () -> String) {
        state.hooks.withLock { $0.status = status }
    }

    /// What SIGUSR2 does: `reload` returns the line to print.
    func onReload(_ reload: @escaping @Sendable () -> String) {
        state.hooks.withLock { $0.reload = reload }
    }

    /// Runs just before a second termination signal ends the process (to pass it on to
    /// worker processes, say).
    func onForcedExit(_ action: @escaping @Sendable () -> Void) {
        state.hooks.withLock { $0.beforeForcedExit = action }
    }

    /// Shared with the signal thread's handler.
    private final class State: Sendable {
        let caught: DispatchSemaphore
        let first = Locked<Int32?>(nil)
        let hooks = Locked(Hooks())

        struct Hooks {
            var status: @Sendable () -> String = { "starting" }
            var beforeForcedExit: @Sendable () -> Void = {}
            var reload: (@Sendable () -> String)?
        }

        init(caught: DispatchSemaphore) { self.caught = caught }

        func handle(_ number: Int32) {
            let name = ProcessSignals.name(number)
            switch number {
            case SIGUSR1:
                let status = hooks.withLock { $0.status }
                FileHandleOutput.standardError("conduit: \(status())")
            case SIGUSR2 where hooks.withLock({ $0.reload }) != nil:
                let reload = hooks.withLock { $0.reload }
                FileHandleOutput.standardError("conduit: \(reload?() ?? "")")
            case SIGUSR2, SIGALRM:
                FileHandleOutput.standardError("conduit: ignoring \(name)")
            default:
                let isFirst = first.withLock { first in
                    defer { first = first ?? number }
                    return first == nil
                }
                if isFirst {
                    caught.signal()
                    return
                }
                FileHandleOutput.standardError("conduit: caught \(name) again; exiting without waiting for connections")
                hooks.withLock { $0.beforeForcedExit }()
                _exit(128 + number)
            }
        }
    }
}
