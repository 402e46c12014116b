import CShim
import Conduit
import Foundation
import Glibc
import Synchronization

/// The signals this tool takes as events rather than dying of them.
///
/// `takeOver()` runs first in `main`, before any other thread exists: it blocks these
/// signals (every thread started later inherits the mask) and starts one thread that
/// reads them from a `signalfd`. A signal that arrives at any moment — while a server
/// is still starting, between two handlers — waits as pending until that thread takes
/// it, so none is lost and none runs a default action behind a command's back. A
/// signal nobody handles gets its default action (the process ends by it), as if it
/// had never been blocked.
///
/// Not `sigwaitinfo`: while a thread waits in it the kernel unblocks the signals it
/// waits for, and the Swift runtime's crash handler, which pauses every thread with the
/// first of SIGUSR1, SIGUSR2 and SIGPROF that thread does not block, sent SIGUSR1 to
/// ours; it was taken as a status request, never paused, and the crash report waited
/// 16 rounds of 2 s for it (32 s, with 16 status lines printed) before the process died.
enum ProcessSignals {
    /// Every signal the waiting thread takes.
    static let taken: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM]

    /// Blocks `taken` and starts the thread that waits for them. Call once, first.
    static func takeOver() {
        var blocked = signalSet(taken)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        let descriptor = cshim_signalfd(&blocked)
        precondition(descriptor >= 0, "signalfd failed: errno \(-descriptor)")
        let waiter = Thread {
            while true {
                let number = cshim_signalfd_next(descriptor)
                if number > 0 { SignalHandlers.shared.deliver(number) }
            }
        }
        waiter.name = "conduit-signals"
        waiter.start()
    }

    /// The signal's name, `SIGTERM` style.
    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        case SIGALRM: "SIGALRM"
        default: "signal \(number)"
        }
    }

    static func signalSet(_ numbers: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in numbers { sigaddset(&set, number) }
        return set
    }

    /// What the signal would have done unblocked: these all end the process.
    static func defaultAction(_ number: Int32) -> Never {
        signal(number, SIG_DFL)
        var set = signalSet([number])
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
        // Only if the default were to continue: end the way a shell reports a signal.
        _exit(128 + number)
    }
}

/// Which handler takes each signal now; the waiting thread asks it per delivery.
final class SignalHandlers: Sendable {
    static let shared = SignalHandlers()

    private struct Entry {
        var owner: ObjectIdentifier
        var handler: @Sendable (Int32) -> Void
    }

    private let entries = Locked<[Int32: Entry]>([:])

    func set(_ numbers: [Int32], owner: ObjectIdentifier, _ handler: @escaping @Sendable (Int32) -> Void) {
        entries.withLock { entries in
            for number in numbers { entries[number] = Entry(owner: owner, handler: handler) }
        }
    }

    /// Removes what `owner` set (a later owner's handlers stay).
    func remove(owner: ObjectIdentifier) {
        entries.withLock { entries in entries = entries.filter { $0.value.owner != owner } }
    }

    func deliver(_ number: Int32) {
        guard let handler = entries.withLock({ $0[number]?.handler }) else { ProcessSignals.defaultAction(number) }
        handler(number)
    }
}

/// Takes some signals as events for as long as it is not cancelled: each delivery calls
/// `handler` (on the signal thread; keep it short) with the signal and how many of
/// these signals have arrived so far (1 for the first).
final class SignalEvents: Sendable {
    /// Shared with the handler, which may outlive this object by one delivery.
    private let count = SignalCount()

    init(_ signals: [Int32], handler: @escaping @Sendable (_ signal: Int32, _ count: Int) -> Void) {
        SignalHandlers.shared.set(signals, owner: ObjectIdentifier(self)) { [count] number in
            handler(number, count.next())
        }
    }

    /// Stops taking the signals: they get their default action again.
    func cancel() {
        SignalHandlers.shared.remove(owner: ObjectIdentifier(self))
    }

    /// SIGINT (Ctrl-C), SIGTERM (a service manager) and SIGHUP (the terminal went
    /// away): each asks a command to stop.
    static let termination: [Int32] = [SIGINT, SIGTERM, SIGHUP]
}

/// How many signals have arrived.
final class SignalCount: Sendable {
    private let value = Locked(0)

    /// Counts one more and returns the total.
    func next() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}
