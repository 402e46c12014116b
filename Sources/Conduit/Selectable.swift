/// What an event loop asks of everything registered on it (a connection, a listener),
/// whichever transport moves its bytes.
protocol Selectable: AnyObject {
    /// Called once when the loop stops for good while this is still registered: close
    /// now, telling whoever waits that the loop stopped.
    func loopDidStop(_ error: SocketError)
    /// Called by the loop's periodic sweep (only when timeouts are enabled) to check
    /// deadlines against `now`.
    func sweep(now: UInt64)
    /// Asked by a server's graceful stop to finish: a listener closes; a connection lets
    /// its handler finish work in flight (`ConnectionHandler.connectionShouldQuiesce`),
    /// then stops reading, sends what is queued, ends its side and drains the peer's
    /// input for at most `drainLimit` before closing.
    func quiesce(drainLimit: Duration)
    /// Closes now, dropping what is queued: a graceful stop's deadline has passed.
    func closeNow()
    /// The server this belongs to, if any (a server closes only what it owns).
    var owner: AnyObject? { get }
}

/// epoll flag values as `UInt32`, named once.
enum EpollFlag {
    static let readable = UInt32(0x001)  // EPOLLIN
    static let writable = UInt32(0x004)  // EPOLLOUT
    static let error = UInt32(0x008)  // EPOLLERR
    static let hangUp = UInt32(0x010)  // EPOLLHUP
}
