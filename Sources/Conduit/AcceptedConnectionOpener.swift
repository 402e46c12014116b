/// Turns an accepted socket into a served connection on a loop of its server. A value
/// of `Sendable` parts, so that a listener may hand a connection to another loop (see
/// `Listener`) and that loop opens it the same way as the listener's own loop would.
struct AcceptedConnectionOpener: Sendable {
    let options: ServerOptions
    let connections: ServerConnections
    let onAcceptError: @Sendable (SocketError) -> Void
    let makeHandler: @Sendable (Connection) -> ConnectionHandler

    /// Opens `accepted`, already counted in `connections`, as a connection of `loop`.
    /// Call on `loop`.
    func open(_ accepted: Socket, on loop: EventLoop) {
        let connection = Connection(
            loop: loop, socket: accepted, handler: PlaceholderHandler.shared, connecting: false, server: connections)
        connection.idleTimeout = options.idleTimeout
        connection.backpressure = options.backpressure
        if let context = connections.tls {
            guard let session = context.makeSession(serverName: nil) else {
                accepted.close()
                connections.remove()
                onAcceptError(SocketError(.tls, operation: "TLS: no session could be made: \(TLSContext.lastError())"))
                return
            }
            connection.tls = session
            // Looked up now: a handshake that fails closes the socket before anyone
            // asks who the peer was, and the failure is worth naming it.
            _ = connection.peerAddress
        }
        connection.replaceHandler(makeHandler(connection))
        do {
            try connection.start()
        } catch {
            connections.remove()
            onAcceptError(error)
            return
        }
        loop.counters.connectionsAccepted += 1
        connection.didOpen()
    }
}
