import Conduit
import ConduitTestSupport
import Testing

/// The framings on bytes: what each calls complete, incomplete and invalid, and that
/// cutting a stream anywhere changes none of it.
@Suite("message framings")
struct FramingTests {
    static func frame(_ framing: some MessageFraming, _ text: String) -> FrameLength {
        Array(text.utf8).withUnsafeBytes { framing.frame($0) }
    }

    static func frame(_ framing: some MessageFraming, bytes: [UInt8]) -> FrameLength {
        bytes.withUnsafeBytes { framing.frame($0) }
    }

    static func isInvalid(_ length: FrameLength) -> Bool {
        if case .invalid = length { return true }
        return false
    }

    /// The messages `framing` cuts `stream` into when it arrives `chunk` bytes at a time,
    /// as a connection hands them over (unconsumed bytes offered again with the next).
    static func messages(_ framing: some MessageFraming, _ stream: [UInt8], chunk: Int) -> [[UInt8]]? {
        var pending: [UInt8] = []
        var found: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            pending += stream[offset..<min(offset + chunk, stream.count)]
            offset += chunk
            while true {
                switch pending.withUnsafeBytes({ framing.frame($0) }) {
                case .complete(let length):
                    found.append(Array(pending.prefix(length)))
                    pending.removeFirst(length)
                    continue
                case .needMore: break
                case .invalid: return nil
                }
                break
            }
        }
        return pending.isEmpty ? found : nil
    }

    @Test func fixedLength() {
        let framing = FixedLengthFraming(length: 4)
        #expect(Self.frame(framing, "abc") == .needMore)
        #expect(Self.frame(framing, "abcdef") == .complete(4))
    }

    @Test func delimitedBySeveralBytes() {
        let framing = DelimitedFraming(delimiter: "\r\n", maxLength: 8)
        #expect(Self.frame(framing, "abc\r") == .needMore)
        #expect(Self.frame(framing, "a\rb\r\nc") == .complete(5))
        #expect(Self.isInvalid(Self.frame(framing, "abcdefgh")))
        #expect(Self.frame(framing, "abcdef\r\n") == .complete(8))
        #expect(Array("ok\r\n".utf8).withUnsafeBytes { framing.payloadRange(of: $0) } == 0..<2)
        #expect(Self.frame(DelimitedFraming(delimiter: [0]), bytes: [1, 2, 0, 3]) == .complete(3))
        #expect(Self.frame(LineFraming(maxLength: 4), "abcd") == .invalid("no delimiter in the first 4 bytes"))
    }

    @Test func lengthPrefixedAsTheTutorialsHeaderLength() {
        // The tutorial's 2-byte big-endian header length, counting what follows it.
        let framing = LengthPrefixedFraming(fieldSize: 2)
        #expect(Self.frame(framing, bytes: [0]) == .needMore)
        #expect(Self.frame(framing, bytes: [0, 3, 1, 2]) == .needMore)
        #expect(Self.frame(framing, bytes: [0, 3, 1, 2, 3, 9]) == .complete(5))
        #expect([UInt8]([0, 3, 1, 2, 3]).withUnsafeBytes { framing.payloadRange(of: $0) } == 2..<5)
    }

    @Test func lengthPrefixedAsMemcachedBinary() {
        // A 24-byte header with the body's length at offset 8 (4 bytes, big-endian).
        let framing = LengthPrefixedFraming(fieldOffset: 8, fieldSize: 4, adjustment: 12)
        var response = [UInt8](repeating: 0, count: 24) + Array("value".utf8)
        response[0] = 0x81
        response[11] = 5
        #expect(Self.frame(framing, bytes: Array(response.prefix(28))) == .needMore)
        #expect(Self.frame(framing, bytes: response + [0x81]) == .complete(29))
    }

    @Test func lengthPrefixedLittleEndianCountingTheField() {
        let framing = LengthPrefixedFraming(fieldSize: 4, byteOrder: .little, countsField: true, maxLength: 1000)
        #expect(Self.frame(framing, bytes: [6, 0, 0, 0, 7, 8]) == .complete(6))
        // Shorter than its own field, and longer than the limit.
        #expect(Self.isInvalid(Self.frame(framing, bytes: [3, 0, 0, 0])))
        #expect(Self.isInvalid(Self.frame(framing, bytes: [0xe9, 0x03, 0, 0])))
        #expect(Self.isInvalid(Self.frame(LengthPrefixedFraming(fieldSize: 8), bytes: [0xff] + [UInt8](repeating: 0, count: 7))))
    }

    @Test func respReplies() {
        let framing = RESPFraming()
        for reply in [
            "+PONG\r\n", "-ERR unknown command\r\n", ":1000\r\n", "$5\r\nhello\r\n", "$0\r\n\r\n", "$-1\r\n",
            "*-1\r\n", "*0\r\n", "*2\r\n$3\r\nfoo\r\n*1\r\n:1\r\n", "_\r\n", ",3.14\r\n", "#t\r\n",
            "(3492890328409238509324850943850943825024385\r\n", "!21\r\nSYNTAX invalid syntax\r\n",
            "=15\r\ntxt:Some string\r\n", "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", "~2\r\n+a\r\n+b\r\n",
            ">2\r\n+message\r\n+hi\r\n", "|1\r\n+key-popularity\r\n*1\r\n,0.19\r\n$2\r\nhi\r\n",
        ] {
            let bytes = Array(reply.utf8)
            #expect(Self.frame(framing, bytes: bytes) == .complete(bytes.count), "\(reply)")
            #expect(Self.frame(framing, bytes: bytes + Array("+next\r\n".utf8)) == .complete(bytes.count), "\(reply)")
            for cut in 1..<bytes.count {
                #expect(Self.frame(framing, bytes: Array(bytes.prefix(cut))) == .needMore, "\(reply) cut at \(cut)")
            }
        }
    }

    @Test func respRejectsWhatItCannotFrame() {
        let framing = RESPFraming(maxLength: 100)
        #expect(Self.frame(framing, "?what\r\n") == .invalid("a bad RESP type byte 0x3f"))
        #expect(Self.isInvalid(Self.frame(framing, "$abc\r\n")))
        #expect(Self.isInvalid(Self.frame(framing, "$-2\r\n")))
        #expect(Self.isInvalid(Self.frame(framing, "$3\r\nabcd\r\n")))
        #expect(Self.isInvalid(Self.frame(framing, "$1000\r\n")))
        #expect(Self.isInvalid(Self.frame(framing, "*1000\r\n")))
        #expect(Self.isInvalid(Self.frame(framing, "$?\r\n")))
        #expect(Self.isInvalid(Self.frame(framing, "+" + String(repeating: "a", count: 200))))
        // Depth costs bytes, not stack: 30 nested arrays fit, the limit stops the rest.
        #expect(Self.frame(framing, String(repeating: "*1\r\n", count: 24) + ":1\r\n") == .complete(100))
        #expect(Self.isInvalid(Self.frame(framing, String(repeating: "*1\r\n", count: 30))))
        #expect(Self.frame(RESPFraming(), String(repeating: "*1\r\n", count: 100_000)) == .needMore)
        #expect([UInt8]().withUnsafeBytes { RESPFraming.isError($0) } == false)
        #expect(Array("-ERR x\r\n".utf8).withUnsafeBytes { RESPFraming.isError($0) })
    }

    @Test func untilCloseEndsAtTheClose() {
        let framing = UntilCloseFraming(maxLength: 10)
        #expect(Self.frame(framing, "whole") == .needMore)
        #expect(Array("hello".utf8).withUnsafeBytes { framing.frameAtEnd($0) } == .complete(5))
        #expect([UInt8]().withUnsafeBytes { framing.frameAtEnd($0) } == .needMore)
        #expect(Self.isInvalid(Self.frame(framing, "more than ten bytes")))
        // Every other framing leaves an incomplete message incomplete at the close.
        #expect(Array("abc".utf8).withUnsafeBytes { LineFraming().frameAtEnd($0) } == .needMore)
    }

    /// Cut anywhere, a stream of every framing's messages splits the same way.
    @Test func cuttingTheStreamChangesNothing() {
        let cases: [(any MessageFraming, [[UInt8]])] = [
            (FixedLengthFraming(length: 3), ["abc", "def", "ghi"].map { Array($0.utf8) }),
            (DelimitedFraming(delimiter: "\r\n"), ["a\r\n", "\r\n", "bc\rd\r\n"].map { Array($0.utf8) }),
            (LengthPrefixedFraming(fieldOffset: 1, fieldSize: 2), [[9, 0, 2, 1, 2], [9, 0, 0], [9, 0, 1, 7]]),
            (RESPFraming(), ["*2\r\n$1\r\na\r\n:2\r\n", "+OK\r\n", "$-1\r\n", "%1\r\n+k\r\n$2\r\n\r\n\r\n"].map { Array($0.utf8) }),
        ]
        for (framing, expected) in cases {
            let stream = expected.flatMap { $0 }
            for chunk in 1...stream.count {
                #expect(Self.messages(framing, stream, chunk: chunk) == expected, "\(type(of: framing)) in chunks of \(chunk)")
            }
        }
    }
}

/// `UntilCloseFraming` through the async API on loopback: the answer is what the server
/// sent before its FIN.
@Suite("until-close framing on a socket")
struct UntilCloseSocketTests {
    @Test(arguments: IOBackend.allCases)
    func theAnswerEndsAtTheServersClose(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await AsyncServer.start(group: group, address: .loopback(port: 0))
        let answer = [UInt8](repeating: 7, count: 300_000)
        let running = Task {
            await server.run { connection in
                _ = try? await connection.receiveMessage(LineFraming())
                try? await connection.send(answer)
                await connection.close()
            }
        }
        let client = try await AsyncConnection.connect(to: server.address, on: group.next())
        let received = try await client.request(Array("give\n".utf8), framing: UntilCloseFraming())
        #expect(received == answer)
        #expect(try await client.receiveMessage(UntilCloseFraming()) == nil)
        await client.close()
        running.cancel()
        await running.value
        await group.shutdown()
    }
}
