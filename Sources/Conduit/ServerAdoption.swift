extension Server {
    /// Serves a socket that is already bound and listening — TCP or Unix — such as one
    /// systemd's socket activation passes (descriptor 3 with `LISTEN_FDS=1`), blocking
    /// until every loop listens.
    ///
    /// A descriptor that is not a listening stream socket of an IP family or `AF_UNIX`
    /// is refused (this throws) and left untouched: it may be anything, stdout say.
    /// Any other the server owns from this call on: it sets it non-blocking and
    /// close-on-exec, and closes it when it stops accepting, or if starting fails.
    /// The first loop of `group` accepts and hands the connections to every loop in
    /// turn (the socket is bound already, so loops cannot each have their own with
    /// `SO_REUSEPORT`). `options.backlog` and `options.reusePort` do not apply: whoever
    /// made the socket chose them. The file of an adopted Unix socket is left alone;
    /// its maker owns it. See `init(group:address:…)` for the other parameters.
    @available(*, noasync, message: "use 'try await Server.start(…)'; this one blocks the thread")
    public convenience init(
        group: EventLoopGroup,
        adoptingListeningDescriptor descriptor: Int32,
        options: ServerOptions = ServerOptions(),
        onAcceptError: @escaping @Sendable (SocketError) -> Void = { _ in },
        makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) throws(SocketError) {
        group.preconditionNotInAnyLoop("Server.init")
        let bound = try Self.adopt(descriptor, group: group, options: options)
        try self.init(blockingUntilListening: bound, group: group, options: options, onAcceptError, makeHandler)
    }

    /// Serves a socket that is already bound and listening; returns once every loop
    /// listens. The async form of `init(group:adoptingListeningDescriptor:…)`.
    public static func start(
        group: EventLoopGroup,
        adoptingListeningDescriptor descriptor: Int32,
        options: ServerOptions = ServerOptions(),
        onAcceptError: @escaping @Sendable (SocketError) -> Void = { _ in },
        makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler
    ) async throws(SocketError) -> Server {
        let bound = try adopt(descriptor, group: group, options: options)
        return try await start(bound, group: group, options: options, onAcceptError, makeHandler)
    }

    private static func adopt(
        _ descriptor: Int32, group: EventLoopGroup, options: ServerOptions
    ) throws(SocketError) -> Bound {
        let address = try AdoptedListener.prepare(descriptor)
        return Bound(
            address: address, descriptors: [descriptor],
            connections: ServerConnections(options: options), shared: true)
    }
}
