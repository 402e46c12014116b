import Conduit
import ConduitTestSupport
import ConduitTutorial
import Testing

/// Reads up to `limit` bytes, then closes the connection mid-stream.
final class CloseAfterHandler: ConnectionHandler {
    let limit: Int
    var seen = 0
    let closed: Counter
    init(limit: Int, closed: Counter) {
        self.limit = limit
        self.closed = closed
    }
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        seen += bytes.count
        if seen >= limit { connection.close() }
        return bytes.count
    }
    func connectionDidClose(_ connection: Connection, error: SocketError?) { closed.increment() }
}

@Suite("A peer that closes mid-stream")
struct PeerCloseTests {
    /// The server closes while the client is still sending 4 MiB: the client must end
    /// with a clear failure (reset or early close), never hang or report success.
    @Test(arguments: IOBackend.allCases)
    func serverClosesWhileClientSends(backend: IOBackend) throws {
        try requireUsable(backend)
        let closed = Counter()
        try withServer(backend: backend, makeHandler: { _ in CloseAfterHandler(limit: 1000, closed: closed) }) { address in
            let result = try exchange([payload(count: 4 << 20)], with: address, backend: backend)
            #expect(result.failure != nil)
            #expect(!result.succeeded)
            switch result.failure {
            case .socket(let error)?: #expect(error.kind == .connectionReset)
            case .closedEarly(let received, _)?: #expect(received == 0)
            default: Issue.record("unexpected failure \(String(describing: result.failure))")
            }
        }
        #expect(closed.count == 1)
    }

    /// A client that disappears while the server still owes it a large echo does not
    /// disturb the server: the next client is served normally.
    @Test(arguments: IOBackend.allCases)
    func clientClosesWhileServerEchoes(backend: IOBackend) throws {
        try requireUsable(backend)
        try withEchoServer(backend: backend) { address in
            let loop = try EventLoop(backend: backend)
            let quitter = CloseAfterHandler(limit: 1, closed: Counter())
            final class SendThenQuit: ConnectionHandler {
                let inner: CloseAfterHandler
                let loop: EventLoop
                init(_ inner: CloseAfterHandler, _ loop: EventLoop) {
                    self.inner = inner
                    self.loop = loop
                }
                func connectionDidOpen(_ connection: Connection) { connection.write(payload(count: 2 << 20)) }
                func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
                    inner.connection(connection, didReceive: bytes)
                }
                func connectionDidClose(_ connection: Connection, error: SocketError?) { loop.stop() }
            }
            try Connection.connect(to: address, on: loop, handler: SendThenQuit(quitter, loop))
            loop.run()
            #expect(quitter.seen >= 1)
            let next = try exchange([Array("still here".utf8)], with: address, backend: backend)
            #expect(next.succeeded)
            #expect(next.received == Array("still here".utf8))
        }
    }
}
