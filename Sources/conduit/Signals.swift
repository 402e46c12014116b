import Dispatch
import Glibc
import Synchronization

/// Turns SIGINT/SIGTERM into events on a Dispatch queue instead of the default of
/// dying at once, so a command can finish its work (print a report, write files)
/// first. Each delivery calls `handler` with the signal's name and how many of
/// these signals have arrived so far (1 for the first).
final class SignalEvents: Sendable {
    private let sources: Mutex<[DispatchSourceSignal]>
    /// Shared by the handlers, which may still be running when this object goes away.
    private let count = SignalCount()

    init(_ signals: [(number: Int32, name: String)], handler: @escaping @Sendable (String, Int) -> Void) {
        var sources: [DispatchSourceSignal] = []
        for (number, name) in signals {
            // Ignored, so the default action no longer applies; the source still sees it.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [count] in handler(name, count.next()) }
            source.resume()
            sources.append(source)
        }
        self.sources = Mutex(sources)
    }

    /// Stops listening (the signals stay ignored).
    func cancel() {
        sources.withLock { for source in $0 { source.cancel() } }
    }

    /// SIGINT (Ctrl-C) and SIGTERM.
    static let termination: [(number: Int32, name: String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")]
}

/// How many signals have arrived.
final class SignalCount: Sendable {
    private let value = Mutex(0)

    /// Counts one more and returns the total.
    func next() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}
