import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import ConduitTutorial
import Dispatch
import Glibc
import Testing

/// The server-wide memory budget (blocking tests, run off Swift's pool: see `offThePool`) (`ServerOptions.memoryBudget`, `--memory-budget`):
/// what all connections together may hold in buffers. Before it, 32 clients that each
/// announced 16 MiB and sent all but the last byte made the server hold 588 MB.
@Suite("Memory budget for the whole server")
struct MemoryBudgetTests {
    static let mebibyte = 1 << 20

    /// Messages whose announced size the budget cannot cover are refused at once with
    /// an error; those it accepted complete and are answered; the budget is all given
    /// back when the connections close.
    @Test(arguments: IOBackend.allCases)
    func announcedMessagesBeyondTheBudgetAreRefused(backend: IOBackend) async throws {
        try requireUsable(backend)
        try await offThePool { try Self.refusesBeyondTheBudget(backend: backend) }
    }

    static func refusesBeyondTheBudget(backend: IOBackend) throws {
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let server = try AppServer(
            group: group, address: .loopback(port: 0), limits: MessageLimits(maxContentLength: 4 * Self.mebibyte),
            options: ServerOptions(memoryBudget: 8 * Self.mebibyte))
        let port = server.address.port
        let content = payload(count: 3 * Self.mebibyte)
        let message = try MessageEncoder.binaryMessage(content, contentType: "binary/custom-client-binary-type")
        var accepted: [BlockingClient] = []
        for index in 1...2 {
            let client = try BlockingClient(port: port)
            client.send(Array(message.dropLast()))
            accepted.append(client)
            #expect(waitUntil { server.server.bufferedBytes >= index * content.count }, "\(server.server.bufferedBytes)")
        }
        // A third 3 MiB message would take the server past 8 MiB.
        let refused = try BlockingClient(port: port)
        refused.send(Array(message.prefix(200_000)))
        let (answer, closed) = refused.receiveUntilClosed()
        #expect(closed)
        let responses = try decodeResponses(answer)
        #expect(responses.count == 1)
        #expect("\(responses)".contains("server busy: no memory for a message of \(message.count) bytes"), "\(responses)")
        #expect(server.server.bufferedBytes <= 8 * Self.mebibyte)
        // The two it took are answered in full.
        var expected: [UInt8] = []
        try Response.binary(
            contentType: BinaryResponder.contentType, content: Array("First 10 bytes of request: ".utf8) + content.prefix(10)
        ).encode(into: &expected)
        for client in accepted {
            client.send([message.last!])
            #expect(client.receive(count: expected.count) == expected)
        }
        accepted.removeAll()
        #expect(waitUntil { server.server.bufferedBytes == 0 }, "\(server.server.bufferedBytes) bytes still charged")
    }

    /// Echo clients that send without reading fill the server's output queues; over the
    /// budget every connection stops reading (their sends block in the kernel) instead
    /// of the server queueing 1 MiB per connection. Once the clients read, reading
    /// resumes and every byte arrives intact.
    /// With 48 clients, every connection has input under way when the budget is spent:
    /// on io_uring, what its receive had already taken was handed to the handler anyway,
    /// and the server buffered 11 MB over a 1 MiB budget. It stays in the ring's buffers
    /// now, until reading resumes.
    @Test(arguments: IOBackend.allCases, [4, 48])
    func readingPausesOverTheBudgetAndResumesWithNothingLost(backend: IOBackend, clients: Int) async throws {
        try requireUsable(backend)
        try await offThePool { try Self.pausesAndResumes(backend: backend, clientCount: clients) }
    }

    static func pausesAndResumes(backend: IOBackend, clientCount: Int) throws {
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        let budget = Self.mebibyte
        let server = try Server(
            group: group, address: .loopback(port: 0),
            options: ServerOptions(receiveBufferSize: 65_536, sendBufferSize: 65_536, memoryBudget: budget)
        ) { _ in EchoHandler() }
        let data = payload(count: max(Self.mebibyte, 12 * Self.mebibyte / clientCount))
        // Slow builds (ThreadSanitizer) need time: every pause waits for a client to read.
        let clients = try (0..<clientCount).map { _ in
            try BlockingClient(port: server.address.port, socketBuffers: 65_536)
        }
        let sent = DispatchGroup()
        for client in clients {
            let fd = client.fd
            onOwnThread(group: sent) { sendAll(fd, data) }
        }
        // Wait for the stall: the buffered total stops changing once everyone is paused.
        var highest = 0
        var stable = 0
        var last = -1
        for _ in 0..<800 where stable < 30 {
            let now = server.bufferedBytes
            highest = max(highest, now)
            stable = now == last && now > 0 ? stable + 1 : 0
            last = now
            usleep(10_000)
        }
        // Without the budget each connection queues up to its 1 MiB high watermark. The
        // limit can be passed by what one read adds when it is crossed (an output queue
        // doubling its storage), not by a queue per connection.
        // The budget, not the per-connection watermark, is what stopped the reading (the
        // peak itself may fall between two samples: with io_uring the kernel takes queued
        // output into its socket buffers after the pause, and the use falls again).
        #expect(group.syncCounters().readPausesForMemory > 0, "\(backend), \(clientCount) clients: at most \(highest) bytes held")
        #expect(highest <= budget + 2 * Self.mebibyte + 65_536, "held \(highest) bytes with a budget of \(budget)")
        let echoed = DispatchGroup()
        let results = Locked<[[UInt8]]>([])
        for client in clients {
            let fd = client.fd
            onOwnThread(group: echoed) {
                let bytes = receiveExactly(fd, data.count)
                results.withLock { $0.append(bytes) }
            }
        }
        #expect(sent.wait(timeout: HangGuard.deadline()) == .success)
        #expect(echoed.wait(timeout: HangGuard.deadline()) == .success)
        for bytes in results.withLock({ $0 }) {
            #expect(bytes.count == data.count, "\(backend), \(clientCount) clients")
            #expect(firstDifference(bytes, data) == nil, "\(backend), \(clientCount) clients")
        }
        withExtendedLifetime(clients) {}
    }
}

/// Polls `condition` every 10 ms for at most `seconds`.
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    for _ in 0..<Int(seconds * 100) {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Sends all of `bytes` on a blocking socket (or until it fails).
@Sendable func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return }
        offset += n
    }
}

