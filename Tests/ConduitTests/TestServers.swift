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

/// A deterministic pseudo-random payload, so a mismatch shows up at a known offset.
func payload(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

/// Counts events from loop threads for assertions on the test thread.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// Like `exchange`, but gives up after `seconds` (a stalled exchange fails the test
/// instead of hanging it). `finishedInTime` says which happened.
func boundedExchange(
    _ messages: [[UInt8]], with address: SocketAddress, backend: IOBackend,
    options: ConnectOptions = ConnectOptions(), seconds: Int = 60
) throws -> (exchange: EchoExchange, finishedInTime: Bool) {
    let loop = try EventLoop(backend: backend)
    var finished = false
    let exchange = EchoExchange(messages: messages) { _, event in
        if case .closed = event {
            finished = true
            loop.stop()
        }
    }
    try Connection.connect(to: address, on: loop, options: options, handler: exchange)
    loop.schedule(after: .seconds(seconds)) { loop.stop() }
    loop.run()
    return (exchange, finished)
}
