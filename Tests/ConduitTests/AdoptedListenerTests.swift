import Conduit
import ConduitTestSupport
import ConduitTutorial
import Glibc
import Testing

/// systemd's socket activation, as a test can do it: a socket bound and listening
/// before the server exists, handed over by descriptor.
@Suite("A server adopting an already-listening descriptor, for both backends")
struct AdoptedListenerTests {
    @Test(arguments: IOBackend.allCases, [1, 2])
    func adoptedTCPListenerServes(backend: IOBackend, threads: Int) throws {
        try requireUsable(backend)
        let (fd, port) = makeLoopbackListeningSocket()
        let group = try EventLoopGroup(threads: threads, backend: backend)
        defer { group.syncShutdown() }
        let server = try Server(group: group, adoptingListeningDescriptor: fd) { _ in EchoHandler() }
        #expect(server.address == .loopback(port: UInt16(port)))
        let result = try exchange([Array("adopted".utf8)], with: server.address, backend: backend)
        #expect(result.failure == nil && result.received == Array("adopted".utf8))
        let summary = try MultiConnectionClient(
            address: server.address, count: 100, messages: MultiConnectionClient.messages(count: 2), backend: backend
        ).run()
        #expect(summary.succeeded == 100)
        #expect(server.syncShutdownGracefully(timeout: .seconds(2)) == 0)
        // The descriptor was the server's to close: nothing listens on the port now.
        let after = try exchange([Array("x".utf8)], with: .loopback(port: UInt16(port)), backend: backend)
        guard case .connect(let error)? = after.failure else {
            Issue.record("still listening after the stop: \(String(describing: after.failure))")
            return
        }
        #expect(error.kind == .connectionRefused)
    }

    /// An adopted Unix socket is served; its file belongs to whoever made it and stays.
    @Test(arguments: IOBackend.allCases)
    func adoptedUnixListenerServesAndLeavesTheFile(backend: IOBackend) throws {
        try requireUsable(backend)
        try withTemporaryDirectory { directory in
            let path = directory.file("activated.sock")
            let fd = makeUnixSocket(at: path)
            let group = try EventLoopGroup(threads: 2, backend: backend)
            defer { group.syncShutdown() }
            let server = try Server(group: group, adoptingListeningDescriptor: fd) { _ in EchoHandler() }
            #expect(server.address == (try .unix(path: path)))
            let result = try exchange([Array("activated".utf8)], with: server.address, backend: backend)
            #expect(result.failure == nil && result.received == Array("activated".utf8))
            server.syncStopAccepting()
            #expect(fileExists(path))
        }
    }

    @Test(arguments: IOBackend.allCases)
    func adoptedAsync(backend: IOBackend) async throws {
        try requireUsable(backend)
        let (fd, port) = makeLoopbackListeningSocket()
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await Server.start(group: group, adoptingListeningDescriptor: fd) { _ in EchoHandler() }
        #expect(server.address.port == port)
        let connection = try await AsyncConnection.connect(to: server.address, on: group.next())
        try await connection.send(Array("hi".utf8))
        var echoed: [UInt8] = []
        while echoed.count < 2, let chunk = try await connection.receive() { echoed += chunk }
        #expect(echoed == Array("hi".utf8))
        await connection.close()
        await server.shutdownGracefully(timeout: .seconds(2))
        await group.shutdown()
    }

    /// What is not a listening stream socket is refused with the reason, not served,
    /// and left open: it is still the caller's.
    @Test func notAListeningSocketIsRefused() throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.syncShutdown() }
        withTemporaryDirectory { directory in
            let bound = makeUnixSocket(at: directory.file("bound.sock"), listening: false)
            defer { close(bound) }
            do throws(SocketError) {
                _ = try Server(group: group, adoptingListeningDescriptor: bound) { _ in EchoHandler() }
                Issue.record("served a socket that does not listen")
            } catch {
                #expect(error.code == EINVAL)
                #expect(error.operation.contains("not listening"))
            }
            #expect(fcntl(bound, F_GETFD) >= 0)
        }
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        do throws(SocketError) {
            _ = try Server(group: group, adoptingListeningDescriptor: ends[0]) { _ in EchoHandler() }
            Issue.record("served a pipe")
        } catch {
            #expect(error.code == ENOTSOCK)
        }
        #expect(fcntl(ends[0], F_GETFD) >= 0)
    }
}
