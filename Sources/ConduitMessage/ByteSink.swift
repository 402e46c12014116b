/// Where the JSON writer and the message encoder put bytes: a growable `[UInt8]`, or a
/// `RawByteWriter` over room the caller already has (a connection's output, through
/// `Connection.writeInPlace`), which copies with no capacity checks or uniqueness tests.
package protocol ByteSink {
    /// Bytes written so far.
    var count: Int { get }
    mutating func append(_ byte: UInt8)
    mutating func append(bytes: UnsafeRawBufferPointer)
}

extension Array: ByteSink where Element == UInt8 {
    @inline(__always)
    package mutating func append(bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }
}

/// Writes into `room`, which must be large enough: the caller counts first (the
/// encoders' `encodedCount`s). Writing past the end traps.
package struct RawByteWriter: ByteSink {
    private let room: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    package private(set) var count = 0

    package init(_ room: UnsafeMutableRawBufferPointer) { self.room = room }

    @inline(__always)
    package mutating func append(_ byte: UInt8) {
        precondition(count < room.count, "RawByteWriter: more bytes than counted")
        room[count] = byte
        count += 1
    }

    @inline(__always)
    package mutating func append(bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(room.count - count >= bytes.count, "RawByteWriter: more bytes than counted")
        (room.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }
}
