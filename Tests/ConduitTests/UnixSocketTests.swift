import Conduit
import ConduitTestSupport
import ConduitTutorial
import Dispatch
import Glibc
import Synchronization
import Testing

/// Runs `body` with a fresh temporary directory (for socket paths) that is removed after.
func withTemporaryDirectory<R>(_ body: (TemporaryDirectory) throws -> R) rethrows -> R {
    let directory = TemporaryDirectory()
    defer { directory.remove() }
    return try body(directory)
}

@Suite("Unix domain sockets, for both backends")
struct UnixSocketTests {
    @Test(arguments: IOBackend.allCases, [1, 2])
    func echoRoundTrip(backend: IOBackend, threads: Int) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let address = try SocketAddress.unix(path: directory.file("echo.sock"))
            try withEchoServer(backend: backend, address: address, threads: threads) { bound in
                #expect(bound == address)
                #expect(bound.description == "unix:\(directory.file("echo.sock"))")
                let result = try exchange([Array("Hello, world".utf8), payload(count: 1 << 20)], with: bound, backend: backend)
                #expect(result.failure == nil)
                #expect(result.received == Array("Hello, world".utf8) + payload(count: 1 << 20))
            }
        }
    }

    /// Several loops share the one listening socket: many clients at once are all
    /// served, byte-exact.
    @Test(arguments: IOBackend.allCases)
    func manyClientsOverOneSharedListener(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let address = try SocketAddress.unix(path: directory.file("many.sock"))
            let messages = MultiConnectionClient.messages(count: 2)
            try withEchoServer(backend: backend, address: address, threads: 2) { bound in
                let summary = try MultiConnectionClient(address: bound, count: 300, messages: messages, backend: backend).run()
                #expect(summary.failures.isEmpty)
                #expect(summary.succeeded == 300)
            }
        }
    }

    /// TCP_NODELAY, SO_REUSEPORT and the source-address option are TCP's: asked for
    /// on a Unix socket they are skipped, not failed.
    @Test(arguments: IOBackend.allCases)
    func tcpOnlyOptionsAreSkipped(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let group = try EventLoopGroup(threads: 2, backend: backend)
            defer { group.syncShutdown() }
            let path = directory.file("options.sock")
            let server = try Server(
                group: group, address: try .unix(path: path), options: ServerOptions(reusePort: true, noDelay: true)
            ) { _ in EchoHandler() }
            let loop = try EventLoop(backend: backend)
            let exchange = EchoExchange(messages: [Array("options".utf8)]) { _, event in
                if case .closed = event { loop.stop() }
            }
            let options = ConnectOptions(noDelay: true, receiveBufferSize: 65_536, sendBufferSize: 65_536)
            try Connection.connect(to: server.address, on: loop, options: options, handler: exchange)
            loop.run()
            #expect(exchange.succeeded)
        }
    }

    /// The loops that are handed connections (they have no listener of their own)
    /// sweep for timeouts too: idle connections on either loop are closed.
    @Test(arguments: IOBackend.allCases)
    func handedOffConnectionsTimeOut(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let group = try EventLoopGroup(threads: 2, backend: backend)
            defer { group.syncShutdown() }
            let server = try Server(
                group: group, address: try .unix(path: directory.file("idle.sock")),
                options: ServerOptions(idleTimeout: .milliseconds(300))
            ) { _ in EchoHandler() }
            let clients = try (0..<4).map { _ in try BlockingClient(unixPath: directory.file("idle.sock")) }
            for client in clients { #expect(client.receiveToEnd().ending == 0) }
            // The count drops just after the close the clients saw.
            for _ in 0..<200 where server.openConnections > 0 { usleep(10_000) }
            #expect(server.openConnections == 0)
        }
    }

    @Test(arguments: IOBackend.allCases)
    func asyncClient(backend: IOBackend) async throws {
        try requireUsable(backend)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await Server.start(group: group, address: try .unix(path: directory.file("async.sock"))) { _ in
            EchoHandler()
        }
        let connection = try await AsyncConnection.connect(to: server.address, on: group.next())
        try await connection.send(Array("async over unix".utf8))
        var echoed: [UInt8] = []
        while echoed.count < 15, let chunk = try await connection.receive() { echoed += chunk }
        #expect(echoed == Array("async over unix".utf8))
        await connection.close()
        await server.shutdownGracefully(timeout: .seconds(2))
        #expect(!fileExists(directory.file("async.sock")))
        await group.shutdown()
    }

    /// A server that died left its socket file; nothing listens there, so the next
    /// server removes it and binds.
    @Test(arguments: IOBackend.allCases)
    func staleSocketFileIsReplaced(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let path = directory.file("stale.sock")
            close(makeUnixSocket(at: path))
            #expect(fileExists(path))
            try withEchoServer(backend: backend, address: try .unix(path: path)) { bound in
                let result = try exchange([Array("fresh".utf8)], with: bound, backend: backend)
                #expect(result.failure == nil && result.received == Array("fresh".utf8))
            }
        }
    }

    /// A live server keeps its path: a second server there is refused with
    /// `.addressInUse`, and the first still serves; so does a listener that is not ours.
    @Test(arguments: IOBackend.allCases)
    func liveSocketIsRefused(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let address = try SocketAddress.unix(path: directory.file("live.sock"))
            try withEchoServer(backend: backend, address: address) { bound in
                let group = try EventLoopGroup(threads: 1, backend: backend)
                defer { group.syncShutdown() }
                do throws(SocketError) {
                    _ = try Server(group: group, address: address) { _ in EchoHandler() }
                    Issue.record("a second server took a live path")
                } catch {
                    #expect(error.kind == .addressInUse)
                    #expect(error.operation.contains("a server is listening there"))
                }
                let result = try exchange([Array("still mine".utf8)], with: bound, backend: backend)
                #expect(result.failure == nil && result.received == Array("still mine".utf8))
            }
            let foreign = makeUnixSocket(at: directory.file("foreign.sock"))
            defer { close(foreign) }
            let group = try EventLoopGroup(threads: 1, backend: backend)
            defer { group.syncShutdown() }
            #expect(throws: SocketError.self) {
                _ = try Server(group: group, address: try .unix(path: directory.file("foreign.sock"))) { _ in EchoHandler() }
            }
            #expect(fileExists(directory.file("foreign.sock")))
        }
    }

    /// A path that holds something other than a socket is never removed.
    @Test func fileThatIsNotASocketIsKept() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("data")
            let fd = open(path, O_CREAT | O_WRONLY, 0o600)
            #expect(write(fd, "keep", 4) == 4)
            close(fd)
            let group = try EventLoopGroup(threads: 1)
            defer { group.syncShutdown() }
            let address = try SocketAddress.unix(path: path)
            do throws(SocketError) {
                _ = try Server(group: group, address: address) { _ in EchoHandler() }
                Issue.record("bound over a regular file")
            } catch {
                #expect(error.code == EEXIST)
            }
            var status = stat()
            #expect(lstat(path, &status) == 0 && status.st_size == 4)
        }
    }

    /// Stopping removes the socket file (stopAccepting and the graceful stop alike).
    @Test(arguments: IOBackend.allCases)
    func socketFileIsRemovedOnStop(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let group = try EventLoopGroup(threads: 2, backend: backend)
            defer { group.syncShutdown() }
            let first = try Server(group: group, address: try .unix(path: directory.file("a.sock"))) { _ in EchoHandler() }
            let second = try Server(group: group, address: try .unix(path: directory.file("b.sock"))) { _ in EchoHandler() }
            #expect(fileExists(directory.file("a.sock")) && fileExists(directory.file("b.sock")))
            first.syncStopAccepting()
            #expect(!fileExists(directory.file("a.sock")))
            #expect(second.syncShutdownGracefully(timeout: .seconds(2)) == 0)
            #expect(!fileExists(directory.file("b.sock")))
        }
    }

    /// A server removes only the file it made: if another server has taken the path
    /// since (after the file was deleted by hand), its file stays.
    @Test func anotherServersFileIsNotRemoved() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("shared.sock")
            let group = try EventLoopGroup(threads: 1)
            defer { group.syncShutdown() }
            let old = try Server(group: group, address: try .unix(path: path)) { _ in EchoHandler() }
            unlink(path)
            let new = try Server(group: group, address: try .unix(path: path)) { _ in EchoHandler() }
            old.syncStopAccepting()
            #expect(fileExists(path))
            let client = try BlockingClient(unixPath: path)
            client.send(Array("new".utf8))
            #expect(client.receive(count: 3) == Array("new".utf8))
            new.syncStopAccepting()
            #expect(!fileExists(path))
        }
    }

    /// Clients rarely bind a path, so the server's side of the connection names the
    /// client's process instead; the client's side names the server's path.
    @Test(arguments: IOBackend.allCases)
    func peersAreDescribedSensibly(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let path = directory.file("peer.sock")
            let seen = Mutex<(SocketAddress?, String)?>(nil)
            let accepted = DispatchSemaphore(value: 0)
            try withServer(backend: backend, address: try .unix(path: path), makeHandler: { connection in
                seen.withLock { $0 = (connection.peerAddress, connection.peerDescription) }
                accepted.signal()
                return EchoHandler()
            }) { bound in
                let loop = try EventLoop(backend: backend)
                let clientSide = Mutex<String?>(nil)
                nonisolated(unsafe) var connection: Connection?
                let exchange = EchoExchange(messages: [Array("who".utf8)]) { _, event in
                    // While open: an address first asked for after the close is not known.
                    if case .connected = event { clientSide.withLock { $0 = connection?.peerDescription } }
                    if case .closed = event { loop.stop() }
                }
                connection = try Connection.connect(to: bound, on: loop, handler: exchange)
                loop.run()
                #expect(accepted.wait(timeout: HangGuard.deadline()) == .success)
                let (address, description) = try #require(seen.withLock { $0 })
                #expect(address == .unix(.unnamed))
                #expect(description == "unix:(unnamed) pid \(getpid())")
                #expect(clientSide.withLock { $0 } == "unix:\(path)")
            }
        }
    }

    @Test(arguments: IOBackend.allCases)
    func connectFailuresAreClear(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            // A stale file: nobody listens.
            close(makeUnixSocket(at: directory.file("stale.sock")))
            let refused = try exchange([Array("x".utf8)], with: try .unix(path: directory.file("stale.sock")), backend: backend)
            guard case .connect(let error)? = refused.failure else {
                Issue.record("expected a connect failure, got \(String(describing: refused.failure))")
                return
            }
            #expect(error.kind == .connectionRefused)
            let missing = try exchange([Array("x".utf8)], with: try .unix(path: directory.file("none.sock")), backend: backend)
            guard case .connect(let absent)? = missing.failure else {
                Issue.record("expected a connect failure, got \(String(describing: missing.failure))")
                return
            }
            #expect(absent.code == ENOENT)
        }
    }

    /// A Unix connect does not wait for room in the accept queue as TCP's SYN retries
    /// do: it fails at once with EAGAIN, and says why.
    @Test(arguments: IOBackend.allCases)
    func fullAcceptQueueFailsAtOnce(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let path = directory.file("full.sock")
            let listener = makeUnixSocket(at: path, backlog: 0)
            defer { close(listener) }
            let loop = try EventLoop(backend: backend)
            var connections: [Connection] = []
            var failure: SocketError?
            // Backlog 0 lets one connection wait; a later one finds the queue full.
            for _ in 0..<4 where failure == nil {
                let outcome = ConnectOutcome(loop: loop)
                connections.append(try Connection.connect(to: try .unix(path: path), on: loop, handler: outcome))
                loop.run(closingRegistered: false)
                failure = outcome.error
            }
            // Closed here, the connections let go of their handlers, which hold the loop.
            for connection in connections { connection.close() }
            let error = try #require(failure)
            #expect(error.code == EAGAIN)
            #expect(error.operation.contains("accept queue is full"))
        }
    }
}

/// Stops its loop as soon as a connect has an outcome, keeping the connection open if
/// it opened.
private final class ConnectOutcome: ConnectionHandler {
    let loop: EventLoop
    var error: SocketError?

    init(loop: EventLoop) { self.loop = loop }

    func connectionDidOpen(_ connection: Connection) { loop.stop() }
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int { bytes.count }
    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        self.error = error
        loop.stop()
    }
}
