import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Dispatch
import Glibc
import Testing

/// Peers that hold a slot without doing anything: one that never sends a byte, and one
/// that asked for a large answer and never reads it. Neither may keep its connection
/// past the timeout that should cover it.
@Suite("Silent and non-reading peers")
struct SilentPeerTests {
    /// `--header-timeout` covers a peer that connects and sends nothing at all.
    @Test(arguments: IOBackend.allCases)
    func aPeerThatNeverSendsIsTimedOutByTheHeaderTimeout(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let app = try AppServer(group: group, address: .loopback(port: 0), headerTimeout: .milliseconds(300))
        let silent = try BlockingClient(port: app.address.port)
        let (bytes, closed) = silent.receiveUntilClosed()
        #expect(closed, "the silent connection was not closed within the client's 10 s")
        #expect(try decodeResponses(bytes) == [.error("request header not complete within 0.3 s")])
    }

    /// The idle timeout covers a peer that stopped reading our output: nothing has
    /// moved either way for that long, even though output is queued.
    @Test(arguments: IOBackend.allCases)
    func aPeerThatNeverReadsItsAnswerIsTimedOutByTheIdleTimeout(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let closed = DispatchSemaphore(value: 0)
        let options = ServerOptions(sendBufferSize: 64 << 10, idleTimeout: .milliseconds(300))
        let server = try Server(group: group, address: .loopback(port: 0), options: options) { _ in
            LargeAnswer(size: 8 << 20, closed: closed)
        }
        let client = try BlockingClient(port: server.address.port, socketBuffers: 64 << 10)
        client.send([1])
        // The client never reads: the server's answer stays queued.
        #expect(closed.wait(timeout: HangGuard.deadline()) == .success, "the non-reading peer kept its connection")
        #expect(server.openConnections == 0)
    }
}

/// Answers any input with `size` bytes; signals when its connection closes.
final class LargeAnswer: ConnectionHandler {
    let size: Int
    let closed: DispatchSemaphore

    init(size: Int, closed: DispatchSemaphore) {
        self.size = size
        self.closed = closed
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        connection.write([UInt8](repeating: 0x61, count: size))
        return bytes.count
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) { closed.signal() }
}
