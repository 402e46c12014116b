@_spi(Fuzzing) import Conduit
import Testing

/// A TLS session's ciphertext waits only from the call that makes it to the send after
/// it, so the sessions of one thread share one output buffer and an idle session holds
/// no storage (10,000 idle connections must not keep 10,000 buffers).
@Suite struct TLSSessionStorageTests {
    let server: TLSContext
    let client: TLSContext

    init() throws {
        server = try TLSContext(.selfSignedServer())
        var configuration = TLSConfiguration.client(serverName: "localhost")
        configuration.trust = .certificates(.bytes(try #require(server.selfSignedCertificate)))
        client = try TLSContext(configuration)
    }

    /// Moves bytes between `a` and `b` until neither has anything to send.
    private func exchange(_ a: TLSByteStream, _ b: TLSByteStream) -> (toA: [UInt8], toB: [UInt8]) {
        var toA: [UInt8] = [], toB: [UInt8] = []
        for _ in 0..<20 {
            let fromA = a.takeOutput(), fromB = b.takeOutput()
            if fromA.isEmpty && fromB.isEmpty { break }
            toB += b.feed(fromA)
            toA += a.feed(fromB)
        }
        return (toA, toB)
    }

    @Test func anIdleSessionHoldsNoStorage() throws {
        let c = try #require(TLSByteStream(context: client))
        let s = try #require(TLSByteStream(context: server))
        _ = exchange(c, s)
        #expect(c.isEstablished && s.isEstablished)
        #expect(c.write(Array("ping".utf8)))
        #expect(exchange(c, s).toB == Array("ping".utf8))
        #expect(s.write(Array("pong".utf8)))
        #expect(exchange(c, s).toA == Array("pong".utf8))
        #expect(c.storageBytes == 0)
        #expect(s.storageBytes == 0)
    }

    @Test func aSessionFindingTheSharedBufferInUseKeepsItsOwnAndGivesItUp() throws {
        // Both clients' hellos are pending at once: the second cannot use the shared
        // buffer the first holds.
        let first = try #require(TLSByteStream(context: client))
        let second = try #require(TLSByteStream(context: client))
        #expect(first.storageBytes == 0)
        #expect(second.storageBytes > 0)
        let firstServer = try #require(TLSByteStream(context: server))
        let secondServer = try #require(TLSByteStream(context: server))
        _ = exchange(second, secondServer)
        _ = exchange(first, firstServer)
        #expect(first.isEstablished && second.isEstablished)
        // Records pending in both at once, each intact on its own peer.
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(first.write(big))
        #expect(second.write(Array("second".utf8)))
        #expect(exchange(second, secondServer).toB == Array("second".utf8))
        #expect(exchange(first, firstServer).toB == big)
        for stream in [first, second, firstServer, secondServer] {
            #expect(stream.storageBytes == 0)
        }
    }
}
