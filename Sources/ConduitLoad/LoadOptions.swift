import Conduit
import Glibc

/// What `conduit load` sends.
public enum Workload: String, Sendable, CaseIterable, Codable {
    /// The tutorial's `search` request (`morpheus`), answered by `app-server`.
    case search
    /// A binary request of `size` bytes, answered with its first 10 bytes.
    case binary
    /// Raw bytes of `size`, for echo servers such as `multiconn-server`.
    case echo
}

/// Everything a load run is configured with.
public struct LoadOptions: Sendable {
    /// The server to load (an IP address and port, or a Unix socket path); `nil` starts
    /// an embedded app (or echo) server in-process.
    public var target: SocketAddress?
    /// The embedded server listens on a Unix domain socket in a fresh temporary
    /// directory (removed at the end) instead of an ephemeral loopback port.
    public var embeddedUnixSocket = false
    /// Concurrent connections in total.
    public var connections = 50
    /// New connections per second in total (`nil`: as fast as possible).
    public var connectRate: Double?
    /// How long to send requests, in seconds.
    public var duration: Duration = .seconds(5)
    /// The request kind.
    public var workload: Workload = .search
    /// Payload bytes for `binary` and `echo`.
    public var size = 64
    /// How a response is judged correct: byte for byte (the default, fastest) or by
    /// meaning (any valid encoding of the answer; not for `echo`, which is always exact).
    public var compare: ResponseComparison = .exact
    /// Requests in flight per connection (closed loop), or the cap on them (open loop).
    public var pipeline = 1
    /// Requests per second in total for open-loop load; `nil` for closed loop.
    public var rate: Double?
    /// Event loop threads driving the connections.
    public var threads = 1
    /// Bind connections round-robin to 127.0.0.1 … 127.0.0.N (N > 1) so more than one
    /// address's ephemeral ports are usable.
    public var sourceAddresses = 1
    /// The first source address index (for worker processes and segments sharing the
    /// range).
    public var sourceAddressOffset = 0
    /// The share of a split test this run is (`LoadSegment.options(of:)` sets it), or
    /// nil for a whole test.
    public var segment: LoadSegment?
    /// When to start sending, as Unix time in seconds (wall clock, UTC): connections are
    /// opened first, then every connection starts at this instant, so instances on several
    /// hosts start together. nil: at once.
    public var startAt: Double?
    /// I/O backend of the client (and of the embedded server).
    public var backend: IOBackend = .shim
    /// Event loop threads of the embedded server.
    public var serverThreads = 1
    /// How long to wait after `duration` for responses still in flight.
    public var drain: Duration = .seconds(2)
    /// Print one progress line per second to stderr.
    public var progress = true
    /// A workload for any TCP service (framing, requests, expectations) instead of
    /// `workload`; needs a `target`.
    public var scenario: Scenario?
    /// Close each connection after this many answers and open a new one (1: connect,
    /// request, answer, close); nil keeps connections for the whole run.
    public var requestsPerConnection: Int?
    /// Pass/fail criteria the result is judged by (`LoadResult.thresholds`).
    public var thresholds: [Threshold] = []
    /// Speak TLS to the target with this client context (every connection makes its
    /// handshake before its first request; with `requestsPerConnection`, every new one
    /// again, resuming the context's last session when it allows). nil: plain TCP.
    public var tls: TLSContext?
    /// The name the target's certificate must carry (and SNI); nil: the context's.
    public var tlsServerName: String?
    /// The embedded server's TLS, when there is no target: a context with a
    /// self-signed certificate (`TLSConfiguration.selfSignedServer()`) that `tls` trusts.
    public var embeddedServerTLS: TLSContext?

    /// The defaults (`conduit load` with no arguments).
    public init() {}

    /// An option that is wrong on its own or next to the others: which property, and
    /// what it needs. A front end names the property its own way (the CLI as a flag).
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        /// The property of `LoadOptions` at fault, e.g. `connectRate`.
        public let option: String
        /// What it needs, e.g. `must be positive`.
        public let requirement: String

        /// `option requirement`.
        public var description: String { "\(option) \(requirement)" }
    }

    /// Checks the options against each other; returns the first problem, if any.
    public func problem() -> Problem? {
        if connections < 1 { return Problem(option: "connections", requirement: "must be at least 1") }
        if duration <= .zero { return Problem(option: "duration", requirement: "must be positive") }
        if pipeline < 1 { return Problem(option: "pipeline", requirement: "must be at least 1") }
        if threads < 1 { return Problem(option: "threads", requirement: "must be at least 1") }
        if let rate, rate <= 0 { return Problem(option: "rate", requirement: "must be positive") }
        if let connectRate, connectRate <= 0 { return Problem(option: "connectRate", requirement: "must be positive") }
        if size < 1 { return Problem(option: "size", requirement: "must be at least 1") }
        if workload == .search && size != 64 {
            return Problem(option: "size", requirement: "applies to the binary and echo workloads")
        }
        if sourceAddresses < 1 || sourceAddresses + sourceAddressOffset > 254 {
            return Problem(option: "sourceAddresses", requirement: "must be 1-254 (127.0.0.1 … 127.0.0.254)")
        }
        if sourceAddresses > 1, embeddedUnixSocket || (target.map { $0.family != AF_INET } ?? false) {
            return Problem(option: "sourceAddresses", requirement: "needs an IPv4 target")
        }
        if let requestsPerConnection, requestsPerConnection < 1 {
            return Problem(option: "requestsPerConnection", requirement: "must be at least 1")
        }
        if let scenario {
            if let problem = scenario.problem() { return Problem(option: "scenario", requirement: problem.description) }
            if target == nil {
                return Problem(
                    option: "scenario",
                    requirement: "needs a target (the embedded server answers only the built-in workloads)")
            }
            if scenario.answerEndsAtClose && requestsPerConnection != 1 {
                return Problem(
                    option: "requestsPerConnection",
                    requirement: "must be 1 when the server's close ends each answer (framing until close)")
            }
        }
        if embeddedUnixSocket && target != nil {
            return Problem(option: "embeddedUnixSocket", requirement: "is for the embedded server, not a target")
        }
        return nil
    }
}
