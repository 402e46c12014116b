/// Something registered in an event loop's epoll set: a connection, a listener.
protocol Selectable: AnyObject {
    /// Called on the loop thread with the ready flags (`EPOLLIN`, `EPOLLOUT`, …).
    func handleEvents(_ flags: UInt32)
    /// Called on the loop thread with a completion of the ring's receive for this
    /// descriptor (`uring` backend): `bytes` received (nil without a buffer), or
    /// `result` 0 at end of stream, -errno on error; `more` while the multishot
    /// receive stays armed.
    func receiveCompleted(result: Int32, bytes: UnsafeRawBufferPointer?, more: Bool)
    /// Called on the loop thread when the ring's send for this descriptor completes:
    /// `result` bytes sent, or -errno (`uring` backend).
    func sendCompleted(result: Int32)
    /// Called on the loop thread with a completion of the ring's accept on this
    /// listening socket: `result` the new socket, or -errno; `more` while the multishot
    /// accept stays armed (`uring` backend).
    func acceptCompleted(result: Int32, more: Bool)
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

extension Selectable {
    /// Only connections receive through the ring.
    func receiveCompleted(result: Int32, bytes: UnsafeRawBufferPointer?, more: Bool) {}
    /// Only connections send through the ring.
    func sendCompleted(result: Int32) {}
    /// Only listeners accept through the ring.
    func acceptCompleted(result: Int32, more: Bool) {}
}

/// epoll flag values as `UInt32`, named once.
enum EpollFlag {
    static let readable = UInt32(0x001)  // EPOLLIN
    static let writable = UInt32(0x004)  // EPOLLOUT
    static let error = UInt32(0x008)  // EPOLLERR
    static let hangUp = UInt32(0x010)  // EPOLLHUP
}
