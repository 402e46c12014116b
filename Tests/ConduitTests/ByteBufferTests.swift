import Conduit
import ConduitTestSupport
import Testing

@Suite("ByteBuffer")
struct ByteBufferTests {
    @Test func appendConsumeAndCompact() {
        let buffer = ByteBuffer()
        #expect(buffer.isEmpty)
        let first = payload(count: 1000)
        first.withUnsafeBytes { buffer.append($0) }
        buffer.consume(600)
        let second = payload(count: 500, seed: 7)
        second.withUnsafeBytes { buffer.append($0) }
        #expect(Array(buffer.readableBytes) == Array(first[600...]) + second)
        buffer.consume(buffer.count)
        #expect(buffer.isEmpty)
    }

    @Test func reserveAndCommitWriteInPlace() {
        let buffer = ByteBuffer()
        let room = buffer.reserve(4)
        room.storeBytes(of: 0x6162_6364 as UInt32, as: UInt32.self)
        buffer.commit(4)
        #expect(buffer.count == 4)
        #expect(Array(buffer.readableBytes) == [0x64, 0x63, 0x62, 0x61])
    }
}
