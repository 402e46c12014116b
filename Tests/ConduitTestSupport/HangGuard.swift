import Dispatch

/// How long a test waits for something that should happen before it gives up.
///
/// These waits guard against hangs; they are not measures of speed. Under a sanitizer on
/// a busy 2-core machine a loop can stall for many seconds, so the guard is generous:
/// in the good case a wait ends as soon as its event comes, and costs nothing.
public enum HangGuard {
    /// The guard, in seconds.
    public static let seconds = 60

    /// The guard as a `Duration`, for graceful-stop timeouts and async waits.
    public static let duration = Duration.seconds(seconds)

    /// The deadline of a wait that starts now.
    public static func deadline() -> DispatchTime { .now() + .seconds(seconds) }

    /// How many 10 ms polls fit in the guard.
    public static let polls = seconds * 100
}
