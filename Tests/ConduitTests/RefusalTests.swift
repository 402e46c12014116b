import Conduit
import ConduitTestSupport
import ConduitTutorial
import Dispatch
import Glibc
import Testing

/// A connection over the server's limit hears why and is closed without a reset, even
/// when it has already sent a request the server will never read.
@Suite("Refusals over the connection limit")
struct RefusalTests {
    @Test(arguments: IOBackend.allCases)
    func aRefusedPeerThatAlreadySentGetsTheRefusalAndAnOrderlyClose(backend: IOBackend) throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let busy = Array("busy\n".utf8)
        let options = ServerOptions(maxConnections: 1, overLimitResponse: busy)
        let server = try Server(group: group, address: .loopback(port: 0), options: options) { _ in EchoHandler() }
        let held = try BlockingClient(port: server.address.port)
        held.send([1])
        #expect(held.receive(count: 1) == [1])

        // Hold the loop so every refused peer's request is there before it is accepted.
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        try group.loops[0].execute {
            holding.signal()
            release.wait()
        }
        #expect(holding.wait(timeout: HangGuard.deadline()) == .success)
        let refused = try (0..<10).map { _ in try BlockingClient(port: server.address.port) }
        for client in refused { client.send(Array("a request".utf8)) }
        release.signal()

        for client in refused {
            let (received, ending) = client.receiveToEnd()
            #expect(received == busy)
            #expect(ending == 0, "a refused peer got errno \(ending) (a reset) instead of end of stream")
        }
    }
}
