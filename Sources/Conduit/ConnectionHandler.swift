/// The application side of a connection. Its methods run synchronously on the
/// connection's loop thread: the fastest path, with no hops and no locks. Do not
/// block in them.
public protocol ConnectionHandler: AnyObject {
    /// The connection is established (accepted, or an outgoing connect completed).
    func connectionDidOpen(_ connection: Connection)

    /// New bytes arrived. `bytes` starts with any tail the handler left unconsumed
    /// last time, followed by what was just read; it is a view of loop-owned memory,
    /// valid only during the call. Return how many bytes from the front were used;
    /// the rest is copied and offered again with the next read.
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int

    /// The peer finished sending (end of stream). The default closes the connection
    /// once queued output has been sent.
    func connectionDidReachEnd(_ connection: Connection)

    /// All queued output has been handed to the kernel.
    func connectionDidDrain(_ connection: Connection)

    /// The connection is closed; `error` says why when it was not an orderly close.
    /// Called exactly once, also when an outgoing connect fails.
    func connectionDidClose(_ connection: Connection, error: SocketError?)

    /// The deadline set with `connection.setDeadline(after:)` passed. The default closes
    /// the connection.
    func connectionDeadlinePassed(_ connection: Connection)

    /// Nothing moved either way for `connection.idleTimeout`: nothing arrived, and none
    /// of what is queued was taken by the kernel (a peer that stopped reading our output
    /// is idle too). The default closes the connection.
    func connectionDidIdle(_ connection: Connection)

    /// The server is stopping gracefully. Stop taking new work, finish what is in
    /// flight (answers may still be written), then call `connection.finishQuiescing()`,
    /// which closes without losing output. The server's deadline closes the connection
    /// if that never comes. The default finishes at once: right for handlers that
    /// answer synchronously.
    func connectionShouldQuiesce(_ connection: Connection)
}

extension ConnectionHandler {
    /// Does nothing.
    public func connectionDidOpen(_ connection: Connection) {}
    /// Closes after flushing queued output.
    public func connectionDidReachEnd(_ connection: Connection) { connection.close(afterFlush: true) }
    /// Does nothing.
    public func connectionDidDrain(_ connection: Connection) {}
    /// Does nothing.
    public func connectionDidClose(_ connection: Connection, error: SocketError?) {}
    /// Closes the connection.
    public func connectionDeadlinePassed(_ connection: Connection) { connection.close() }
    /// Closes the connection.
    public func connectionDidIdle(_ connection: Connection) { connection.close() }
    /// Finishes at once.
    public func connectionShouldQuiesce(_ connection: Connection) { connection.finishQuiescing() }
}
