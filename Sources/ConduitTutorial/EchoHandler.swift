import Conduit

/// Sends back every byte it receives: the tutorial's echo service, on the loop's
/// zero-copy read path (the bytes go out from the receive buffer itself).
package final class EchoHandler: ConnectionHandler {
    private let log: ((EchoEvent) -> Void)?

    /// Creates an echo handler; `log`, when given, hears about every event (it costs a
    /// copy of the echoed bytes, so leave it out for load tests).
    package init(log: ((EchoEvent) -> Void)? = nil) {
        self.log = log
    }

    /// Logs the new connection.
    package func connectionDidOpen(_ connection: Connection) {
        log?(.accepted(connection.peerDescription))
    }

    /// Writes `bytes` straight back and consumes all of them.
    package func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        log?(.echoing(Array(bytes), to: connection.peerDescription))
        connection.write(bytes)
        return bytes.count
    }

    /// Logs the close.
    package func connectionDidClose(_ connection: Connection, error: SocketError?) {
        log?(.closed(connection.peerDescription, error))
    }
}

/// What an `EchoHandler` reports to its log; the peer as `Connection.peerDescription`
/// gives it.
package enum EchoEvent: Sendable {
    /// A client connected.
    case accepted(String)
    /// Bytes arrived and are being sent back.
    case echoing([UInt8], to: String)
    /// The connection closed, with the error if it was not orderly.
    case closed(String, SocketError?)
}
