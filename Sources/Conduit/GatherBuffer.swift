/// The loop's one buffer for output its handlers write during a callback (see
/// `EventLoop.gather`): a plain growable byte run, stored in the loop itself rather
/// than as an object, so the hot path touches no reference counts.
struct GatherBuffer: ~Copyable {
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0
    private(set) var count = 0

    /// Storage above this is released once emptied: one large answer must not pin its
    /// size to the loop for good.
    static let retainedCapacity = 256 * 1024

    init() {}

    deinit { storage?.deallocate() }

    var isEmpty: Bool { count == 0 }

    var readableBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    /// Room for `extra` more bytes; `commit` says how many were written.
    mutating func reserve(_ extra: Int) -> UnsafeMutableRawPointer {
        if capacity - count < extra {
            let newCapacity = max(capacity * 2, count + extra, 4096)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            if let storage {
                grown.copyMemory(from: storage, byteCount: count)
                storage.deallocate()
            }
            storage = grown
            capacity = newCapacity
        }
        return storage! + count
    }

    mutating func commit(_ written: Int) {
        precondition(count + written <= capacity)
        count += written
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// Empties it, keeping ordinary storage for the next callback.
    mutating func clear() {
        count = 0
        if capacity > Self.retainedCapacity {
            storage?.deallocate()
            storage = nil
            capacity = 0
        }
    }
}
