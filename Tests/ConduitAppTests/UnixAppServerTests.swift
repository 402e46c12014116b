import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Glibc
import Synchronization
import Testing

@Suite("App server over a Unix domain socket and on an adopted descriptor, for both backends")
struct UnixAppServerTests {
    /// The tutorial's vectors, byte for byte, over a Unix socket; two loops share it.
    @Test(arguments: IOBackend.allCases)
    func searchAndBinaryOverAUnixSocket(backend: IOBackend) throws {
        try requireUsable(backend)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("app.sock")
        let group = try EventLoopGroup(threads: 2, backend: backend)
        defer { group.syncShutdown() }
        let lines = Mutex<[String]>([])
        let log = AppLog(level: .info) { line in lines.withLock { $0.append(line) } }
        let server = try AppServer(group: group, address: try .unix(path: path), log: log)
        #expect(server.address.description == "unix:\(path)")
        for _ in 0..<2 {
            let client = try BlockingClient(unixPath: path)
            for (request, response) in [
                (Vectors.searchMorpheus, Vectors.morpheusResponse), (Vectors.searchDog, Vectors.dogResponse),
                (Vectors.binaryRequest, Vectors.binaryResponse),
            ] {
                client.send(request)
                #expect(client.receive(count: response.count) == response)
            }
        }
        #expect(server.syncShutdownGracefully(timeout: .seconds(2)) == 0)
        #expect(!fileExists(path))
        // The log names the client by its process: it has no path.
        #expect(lines.withLock { $0 }.contains("Accepted connection from unix:(unnamed) pid \(getpid())"))
    }

    @Test(arguments: IOBackend.allCases)
    func asyncClientSearchesOverAUnixSocket(backend: IOBackend) async throws {
        try requireUsable(backend)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let app = try await AppServer.start(group: group, address: try .unix(path: directory.file("async.sock")))
        let client = try await AsyncConnection.connect(to: app.address, on: group.next())
        try await client.send(AppRequest(action: "search", value: "morpheus").encoded())
        var received: [UInt8] = []
        while received.count < Vectors.morpheusResponse.count, let chunk = try await client.receive() {
            received += chunk
        }
        #expect(received == Vectors.morpheusResponse)
        await client.close()
        await app.shutdownGracefully(timeout: .seconds(2))
        await group.shutdown()
    }

    /// systemd hands over descriptor 3 already listening; here the test makes it.
    @Test(arguments: IOBackend.allCases)
    func adoptedDescriptorServesTheProtocol(backend: IOBackend) throws {
        try requireUsable(backend)
        let (fd, port) = makeLoopbackListeningSocket()
        let group = try EventLoopGroup(threads: 2, backend: backend)
        defer { group.syncShutdown() }
        let server = try AppServer(group: group, adoptingListeningDescriptor: fd)
        #expect(server.address == .loopback(port: UInt16(port)))
        do {
            let client = try BlockingClient(port: port)
            client.send(Vectors.searchMorpheus)
            #expect(client.receive(count: Vectors.morpheusResponse.count) == Vectors.morpheusResponse)
        }
        #expect(server.syncShutdownGracefully(timeout: .seconds(2)) == 0)
    }
}
