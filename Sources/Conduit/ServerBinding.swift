import Glibc

/// How a server gets its listening sockets, on the calling thread, before any loop
/// owns them: one per loop on a TCP port, one for all loops on a Unix socket path.
extension Server {
    /// Binds and listens on `address` for `group`: on TCP one socket per loop, sharing
    /// the port with `SO_REUSEPORT` when there are several (after checking nobody else
    /// listens there); on a Unix path one socket for all of them.
    static func bind(
        group: EventLoopGroup, address: SocketAddress, options: ServerOptions
    ) throws(SocketError) -> Bound {
        if case .unix(let path) = address { return try bindUnix(path, group: group, options: options) }
        let reusePort = options.reusePort ?? (group.loops.count > 1)
        // Sharing the port between our own loops must not let us join someone else's
        // listener: only an explicit `reusePort: true` asks for that.
        if options.reusePort == nil && reusePort && address.port != 0 { try checkPortIsFree(address) }
        var bound = address
        var sockets: [Socket] = []
        for loop in group.loops {
            let socket = try listen(on: bound, calls: loop.calls, options: options, reusePort: reusePort)
            // With port 0 the first bind picks a port; the other loops join it.
            if bound.port == 0, let actual = socket.localAddress() { bound = actual }
            sockets.append(socket)
        }
        return Bound(address: bound, descriptors: sockets.map { $0.release() }, connections: ServerConnections(options: options))
    }

    /// One listening Unix socket at `path` for every loop: `SO_REUSEPORT` does not
    /// apply to `AF_UNIX`, and a second bind to the path would fail.
    private static func bindUnix(
        _ path: UnixSocketPath, group: EventLoopGroup, options: ServerOptions
    ) throws(SocketError) -> Bound {
        guard !path.isUnnamed else { throw SocketError(code: EINVAL, operation: "bind unix: no path") }
        let socket = try Socket.open(family: AF_UNIX, calls: group.loops[0].calls)
        let file = try UnixSocketFile.bind(socket, to: path)
        // Before listening: until then a connect is refused whatever the file's mode.
        if let mode = options.unixSocketMode, chmod(path.path, mode_t(mode & 0o7777)) != 0 {
            let error = SocketError(code: errno, operation: "chmod \(String(mode, radix: 8)) \(SocketAddress.unix(path))")
            file.remove()
            throw error
        }
        if Glibc.listen(socket.descriptor, options.backlog) < 0 {
            let error = SocketError(code: errno, operation: "listen \(SocketAddress.unix(path))")
            file.remove()
            throw error
        }
        return Bound(
            address: .unix(path), descriptors: [socket.release()],
            connections: ServerConnections(options: options), shared: true, socketFile: file)
    }

    private static func listen(
        on address: SocketAddress, calls: SystemCalls, options: ServerOptions, reusePort: Bool
    ) throws(SocketError) -> Socket {
        let socket = try bound(to: address, calls: calls, reusePort: reusePort)
        if Glibc.listen(socket.descriptor, options.backlog) < 0 {
            throw SocketError(code: errno, operation: "listen \(address)")
        }
        return socket
    }

    /// A socket bound to `address` with the options every listener of ours has.
    private static func bound(
        to address: SocketAddress, calls: SystemCalls, reusePort: Bool
    ) throws(SocketError) -> Socket {
        let socket = try Socket.open(family: address.family, calls: calls)
        try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
        if reusePort { try socket.setOption(SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT") }
        if address.family == AF_INET6 { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY") }
        let result = address.withSockAddr { Glibc.bind(socket.descriptor, $0, $1) }
        if result < 0 { throw SocketError(code: errno, operation: "bind \(address)") }
        return socket
    }

    /// Throws `.addressInUse` when something already listens on `address` — even a
    /// listener with `SO_REUSEPORT`, which a socket of ours with that option would
    /// silently join, splitting the traffic. Binds a probe socket without the option.
    package static func checkPortIsFree(_ address: SocketAddress) throws(SocketError) {
        let probe = try bound(to: address, calls: SystemCalls(backend: .swift), reusePort: false)
        probe.close()
    }
}
