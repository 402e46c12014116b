/// A server for async code: accepted connections arrive as `AsyncConnection`s, each
/// with the same face as a client's (raw bytes or framed messages in, `send` out), and
/// `run` serves each in its own child task until the calling task is cancelled.
///
/// ```swift
/// let server = try await AsyncServer.start(group: group, address: .loopback(port: 8080))
/// await server.run { connection in
///     do {
///         for try await line in connection.messages(LineFraming()) {
///             try await connection.send(line)      // awaits a database, anything
///         }
///     } catch {}                                   // the peer went, or the stop's deadline
///     await connection.close()
/// }
/// ```
///
/// Call `run` once per server.
///
/// Cancelling `run`'s task (a `ServiceGroup` does so on SIGTERM) stops it gracefully:
/// no new connections; each connection stops reading, its handler sees the end of its
/// messages and may still send its last answers (handlers are not cancelled, so work in
/// flight finishes); after the grace period, connections still open are closed and
/// handlers still running are cancelled. A connection closes once its peer has read
/// everything and closed its side, so a peer that stays connected holds the stop for the
/// whole grace period only while it has something unread or unsent: a connection
/// closed between messages (its handler closed it, nothing left either way) is closed
/// at once.
public final class AsyncServer: Sendable {
    /// The transport server underneath (its address, connection count, memory use).
    public let server: Server
    /// Accepted connections, in order; ends once the server stops accepting.
    public let connections: AsyncStream<AsyncConnection>
    private let continuation: AsyncStream<AsyncConnection>.Continuation
    /// The tasks serving connections (one per `run`), cancelled at a stop's deadline.
    private let serving = Locked<[Task<Void, Never>]>([])

    private init(
        server: Server, connections: AsyncStream<AsyncConnection>,
        continuation: AsyncStream<AsyncConnection>.Continuation
    ) {
        self.server = server
        self.connections = connections
        self.continuation = continuation
    }

    /// Starts listening on `address` on every loop of `group`. Each connection keeps at
    /// most `inputLimit` bytes its handler has not taken (reading pauses above it).
    /// Each connection's calls get `deadlines` unless given their own. `onAcceptError`
    /// hears of every failed accept (out of descriptors, over `maxConnections`), as
    /// `Server`'s does: log it, or count it.
    public static func start(
        group: EventLoopGroup, address: SocketAddress, options: ServerOptions = ServerOptions(),
        inputLimit: Int = 1 << 20, deadlines: AsyncConnection.Deadlines = AsyncConnection.Deadlines(),
        onAcceptError: @escaping @Sendable (SocketError) -> Void = { _ in }
    ) async throws(SocketError) -> AsyncServer {
        let (connections, continuation) = AsyncStream.makeStream(of: AsyncConnection.self)
        let server = try await Server.start(
            group: group, address: address, options: options, onAcceptError: onAcceptError
        ) { connection in
            AsyncBridge(loop: connection.loop, inputLimit: inputLimit) { bridge in
                let peer = bridge.value.connection?.peerAddress
                continuation.yield(AsyncConnection(bridge: bridge, peerAddress: peer, deadlines: deadlines))
            }
        }
        return AsyncServer(server: server, connections: connections, continuation: continuation)
    }

    /// The address being served.
    public var address: SocketAddress { server.address }

    /// Serves every accepted connection with `handle`, each in its own child task,
    /// until the calling task is cancelled or `shutdownGracefully` is called; then stops
    /// gracefully (see the type's documentation) within `gracePeriod`, and returns once
    /// every handler has returned.
    public func run(
        gracePeriod: Duration = .seconds(5), _ handle: @escaping @Sendable (AsyncConnection) async -> Void
    ) async {
        let connections = self.connections
        // Not a child task: cancelling `run` must not cancel handlers mid-answer.
        let serving = Task {
            await withDiscardingTaskGroup { tasks in
                for await connection in connections {
                    // On the connection's loop (see `EventLoop`'s `TaskExecutor`).
                    tasks.addTask(executorPreference: connection.loop) { await handle(connection) }
                }
            }
        }
        self.serving.withLock { $0.append(serving) }
        await withTaskCancellationHandler {
            await serving.value
        } onCancel: {
            Task { await self.shutdownGracefully(timeout: gracePeriod) }
        }
    }

    /// Graceful stop: no new connections; each connection's handler sees the end of its
    /// input and may still send; after `timeout`, connections still open are closed and
    /// handlers still running are cancelled. Returns how many connections had to be
    /// closed that way.
    @discardableResult
    public func shutdownGracefully(timeout: Duration = .seconds(5)) async -> Int {
        let left = await server.shutdownGracefully(timeout: timeout)
        continuation.finish()
        if left > 0 { await server.closeConnectionsNow() }
        for task in serving.withLock({ $0 }) { task.cancel() }
        return left
    }
}
