import Conduit
import ConduitTestSupport
import ConduitTutorial
import Glibc
import Testing

@Suite("Backpressure cannot deadlock two well-behaved peers")
struct BackpressureTests {
    /// A client that writes 64 MiB at once to an echo server, both with 64 KiB socket
    /// buffers: the server must pause reading while its output is high, and the client
    /// must keep reading while its own unsent output is high, or neither side moves.
    @Test(arguments: IOBackend.allCases)
    func sixtyFourMebibytesEchoThroughSmallSocketBuffers(backend: IOBackend) throws {
        try requireUsable(backend)
        let stream = StreamingEcho(total: 64 << 20)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        defer { group.syncShutdown() }
        var serverOptions = ServerOptions()
        serverOptions.receiveBufferSize = 64 << 10
        serverOptions.sendBufferSize = 64 << 10
        let server = try Server(group: group, address: .loopback(port: 0), options: serverOptions) { _ in
            EchoHandler()
        }
        var connectOptions = ConnectOptions()
        connectOptions.receiveBufferSize = 64 << 10
        connectOptions.sendBufferSize = 64 << 10
        let loop = try EventLoop(backend: backend)
        try Connection.connect(to: server.address, on: loop, options: connectOptions, handler: stream)
        // A deadlock stalls for ever; the bound only decides when to give up (generous,
        // for the sanitizer builds).
        let giveUp = loop.schedule(after: .seconds(300)) { loop.stop() }
        loop.run()
        // The timer's closure holds the loop: cancelling releases it.
        giveUp.cancel()
        #expect(stream.mismatchAt == nil, "the echo differs at byte \(stream.mismatchAt ?? -1)")
        #expect(stream.received == stream.total, "the echo stalled after \(stream.received) of \(stream.total) bytes")
    }
}

/// Writes `total` bytes at once, then checks the echo as it arrives (against the same
/// bytes, with `memcmp`) and stops its loop when all of it is back or it differs.
final class StreamingEcho: ConnectionHandler {
    let total: Int
    private let source: [UInt8]
    private(set) var received = 0
    private(set) var mismatchAt: Int?

    init(total: Int) {
        self.total = total
        // 65,537 pseudo-random bytes repeated: cheap to build, and the period matches no
        // buffer size, so a reordered or repeated chunk would not compare equal.
        let block = payload(count: 65_537)
        var source: [UInt8] = []
        source.reserveCapacity(total)
        while source.count < total { source += block.prefix(total - source.count) }
        self.source = source
    }

    func connectionDidOpen(_ connection: Connection) { connection.write(source) }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        let fits = received + bytes.count <= total
        let same = fits && source.withUnsafeBytes {
            memcmp($0.baseAddress! + received, bytes.baseAddress!, bytes.count) == 0
        }
        guard same else {
            mismatchAt = received
            connection.loop.stop()
            return bytes.count
        }
        received += bytes.count
        if received == total { connection.loop.stop() }
        return bytes.count
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) { connection.loop.stop() }
}
