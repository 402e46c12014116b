import Conduit

/// What an application server's connections have done, counted per loop on its own
/// thread and added up by ``AppServer/counters()``.
public struct AppCounters: Sendable, Equatable, Codable {
    /// Requests routed (answered, or given to an asynchronous action).
    public var requests = 0
    /// Asynchronous actions started.
    public var asyncActions = 0
    /// Malformed requests answered with an error and a close.
    public var protocolErrors = 0
    /// Connections closed for a header or a whole request not complete in time.
    public var timeouts = 0
    /// Messages refused because the server's memory budget could not hold them.
    public var refusedForMemory = 0

    /// All zero.
    public init() {}

    /// The two counts added field by field.
    public static func + (left: AppCounters, right: AppCounters) -> AppCounters {
        var sum = left
        sum.requests += right.requests
        sum.asyncActions += right.asyncActions
        sum.protocolErrors += right.protocolErrors
        sum.timeouts += right.timeouts
        sum.refusedForMemory += right.refusedForMemory
        return sum
    }
}

extension AppCounters: CustomStringConvertible {
    /// One line for a server's status: requests are the frames decoded and routed.
    public var description: String {
        "\(requests) requests, \(asyncActions) async actions, \(protocolErrors) protocol errors, "
            + "\(timeouts) timeouts, \(refusedForMemory) refused for memory"
    }
}

extension AppServer {
    /// `counters()` for threads that may block (not a loop's own, not a task's).
    @available(*, noasync, message: "use counters()")
    public func syncCounters() -> AppCounters {
        let services = self.services.all
        return EventLoop.syncAsk(services.map(\.loop)) { services[$0].value.counters }
            .reduce(AppCounters()) { $0 + ($1 ?? AppCounters()) }
    }

    /// The counts of every loop, added up.
    public func counters() async -> AppCounters {
        let services = self.services.all
        return await EventLoop.ask(services.map(\.loop)) { services[$0].value.counters }
            .reduce(AppCounters()) { $0 + ($1 ?? AppCounters()) }
    }
}
