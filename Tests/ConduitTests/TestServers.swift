import Conduit
import ConduitTutorial
import Synchronization

/// Runs `body` with an echo server on an ephemeral loopback port, then shuts it down.
func withEchoServer<R>(
    backend: IOBackend, address: SocketAddress = .loopback(port: 0), threads: Int = 1,
    _ body: (SocketAddress) throws -> R
) throws -> R {
    try withServer(backend: backend, address: address, threads: threads, makeHandler: { _ in EchoHandler() }, body)
}

/// Runs `body` with a server whose connections get handlers from `makeHandler`.
func withServer<R>(
    backend: IOBackend, address: SocketAddress = .loopback(port: 0), threads: Int = 1,
    makeHandler: @escaping @Sendable (Connection) -> ConnectionHandler,
    _ body: (SocketAddress) throws -> R
) throws -> R {
    let group = try EventLoopGroup(threads: threads, backend: backend)
    defer { group.syncShutdown() }
    let server = try Server(group: group, address: address, makeHandler: makeHandler)
    return try body(server.address)
}

/// Runs one echo exchange of `messages` against `address` on a private loop and
/// returns it once the connection has closed.
func exchange(_ messages: [[UInt8]], with address: SocketAddress, backend: IOBackend) throws -> EchoExchange {
    let loop = try EventLoop(backend: backend)
    let exchange = EchoExchange(messages: messages) { _, event in
        if case .closed = event { loop.stop() }
    }
    try Connection.connect(to: address, on: loop, handler: exchange)
    loop.run()
    return exchange
}


/// Counts events from loop threads for assertions on the test thread.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
