/// A `ByteBuffer` made on first use: a connection that never has to keep bytes (its
/// messages arrive whole and its output goes out at once, through the loop's shared
/// buffers) never allocates one. 100,000 idle connections save two objects each.
struct OnDemandBuffer {
    private var buffer: ByteBuffer?

    @inline(__always)
    private mutating func made() -> ByteBuffer {
        if let buffer { return buffer }
        let fresh = ByteBuffer()
        buffer = fresh
        return fresh
    }

    var count: Int { buffer?.count ?? 0 }
    var isEmpty: Bool { buffer?.isEmpty ?? true }
    var capacity: Int { buffer?.capacity ?? 0 }
    var readableBytes: UnsafeRawBufferPointer { buffer?.readableBytes ?? UnsafeRawBufferPointer(start: nil, count: 0) }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        made().append(bytes)
    }

    mutating func reserve(_ extra: Int) -> UnsafeMutableRawPointer { made().reserve(extra) }
    mutating func commit(_ written: Int) { made().commit(written) }
    mutating func ensureCapacity(_ total: Int) { made().ensureCapacity(total) }
    func consume(_ n: Int) { buffer?.consume(n) }
    func reset() { buffer?.reset() }

    /// Hands over the buffer (its storage untouched) and starts again with none.
    mutating func detach() -> ByteBuffer? {
        defer { buffer = nil }
        return buffer
    }
}
