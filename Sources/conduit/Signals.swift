import Dispatch
import Glibc
import Synchronization

/// Turns SIGINT/SIGTERM into events on a Dispatch queue instead of the default of
/// dying at once, so a command can finish its work (print a report, write files)
/// first. Each delivery calls `handler` with the signal's name and how many of
/// these signals have arrived so far (1 for the first).
final class SignalEvents: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let count = Mutex(0)

    init(_ signals: [(number: Int32, name: String)], handler: @escaping @Sendable (String, Int) -> Void) {
        for (number, name) in signals {
            // Ignored, so the default action no longer applies; the source still sees it.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in
                let seen = self.count.withLock { count in
                    count += 1
                    return count
                }
                handler(name, seen)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops listening (the signals stay ignored).
    func cancel() {
        for source in sources { source.cancel() }
    }

    /// SIGINT (Ctrl-C) and SIGTERM.
    static let termination: [(number: Int32, name: String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")]
}
