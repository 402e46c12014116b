import Glibc

/// A growable byte buffer with a read and a write index, used for a connection's
/// unsent output and the unparsed tail of its input.
///
/// It allocates nothing until the first append, keeps its storage while in use (no
/// allocation per message in steady state) and gives large storage back once drained,
/// so 100,000 idle connections cost no buffer memory.
package final class ByteBuffer {
    // `@exclusivity(unchecked)`: run-time exclusivity checks cost about 80 instructions
    // per access on the hot path; no access here spans a call out of this class.
    @exclusivity(unchecked) private var storage: UnsafeMutableRawPointer?
    /// Bytes of storage held (what the buffer costs in memory).
    @exclusivity(unchecked) package private(set) var capacity = 0
    @exclusivity(unchecked) private var readerIndex = 0
    @exclusivity(unchecked) private var writerIndex = 0

    /// Storage above this size is released as soon as the buffer is empty again.
    static let retainedCapacity = 16 * 1024

    /// Creates an empty buffer without allocating.
    package init() {}

    deinit { storage.map { Self.deallocate($0, capacity: capacity) } }

    /// Storage from this size up is mapped from the kernel directly and unmapped when
    /// released, so a burst of large messages gives its memory back to the system at
    /// once; malloc would keep it (glibc raises its mmap threshold after freeing a
    /// large block, and later blocks come from a heap it seldom trims).
    static let mappedCapacity = 1 << 20

    private static func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= mappedCapacity else { return .allocate(byteCount: byteCount, alignment: 16) }
        let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { fatalError("out of memory mapping \(byteCount) bytes") }
        return mapped
    }

    private static func deallocate(_ storage: UnsafeMutableRawPointer, capacity: Int) {
        if capacity >= mappedCapacity { munmap(storage, capacity) } else { storage.deallocate() }
    }

    /// Bytes written and not yet consumed.
    @inline(__always)
    package var count: Int { writerIndex - readerIndex }

    /// True when nothing is waiting.
    @inline(__always)
    package var isEmpty: Bool { writerIndex == readerIndex }

    /// A view of the waiting bytes, valid until the next mutation. Does not copy.
    @inline(__always)
    package var readableBytes: UnsafeRawBufferPointer {
        guard let storage else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: storage + readerIndex, count: count)
    }

    /// Copies `bytes` to the end, growing (and compacting) the storage when needed.
    package func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (storage! + writerIndex).copyMemory(from: source, byteCount: bytes.count)
        writerIndex += bytes.count
    }

    @discardableResult
    /// Makes room for `extra` bytes after the writer index and returns a pointer to it;
    /// call `commit(_:)` with how many were written.
    package func reserve(_ extra: Int) -> UnsafeMutableRawPointer {
        if capacity - writerIndex < extra {
            if readerIndex > 0 && capacity - count >= extra {
                // Enough room if the waiting bytes move to the front.
                if count > 0 { storage!.copyMemory(from: storage! + readerIndex, byteCount: count) }
                writerIndex = count
                readerIndex = 0
            } else {
                grow(to: max(capacity * 2, count + extra, 1024))
            }
        }
        return storage! + writerIndex
    }

    /// Grows the storage to at least `total` bytes now, exactly that much (for input
    /// whose size is announced: one allocation instead of doublings past it).
    package func ensureCapacity(_ total: Int) {
        if capacity < total { grow(to: total) }
    }

    /// Moves the waiting bytes to the front of new storage of `newCapacity` bytes.
    private func grow(to newCapacity: Int) {
        let newStorage = Self.allocate(newCapacity)
        if let storage {
            newStorage.copyMemory(from: storage + readerIndex, byteCount: count)
            Self.deallocate(storage, capacity: capacity)
        }
        writerIndex = count
        readerIndex = 0
        storage = newStorage
        capacity = newCapacity
    }

    /// Marks `written` bytes after the writer index (from `reserve`) as waiting.
    package func commit(_ written: Int) {
        precondition(writerIndex + written <= capacity)
        writerIndex += written
    }

    /// Drops `n` bytes from the front.
    package func consume(_ n: Int) {
        precondition(n <= count)
        readerIndex += n
        if readerIndex == writerIndex { reset() }
    }

    /// Empties the buffer, releasing large storage.
    package func reset() {
        readerIndex = 0
        writerIndex = 0
        if capacity > Self.retainedCapacity {
            storage.map { Self.deallocate($0, capacity: capacity) }
            storage = nil
            capacity = 0
        }
    }
}
