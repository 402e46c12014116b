import CShim
import Glibc

/// The array `epoll_wait` fills, owned by one event loop and reused for every wait.
///
/// `struct epoll_event` is packed on x86_64 (12 bytes) and not on other architectures
/// (16 bytes on arm64), so its size and fields are read through the shim's inline
/// accessors, which the C compiler lays out for the target; nothing here assumes a
/// stride. Both backends share this array.
final class EpollEvents {
    let base: UnsafeMutablePointer<epoll_event>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: capacity * cshim_event_size(), alignment: MemoryLayout<UInt64>.alignment)
        self.base = raw.bindMemory(to: epoll_event.self, capacity: capacity)
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    @inline(__always)
    func flags(_ index: Int) -> UInt32 { cshim_event_flags(base, Int32(index)) }

    @inline(__always)
    func token(_ index: Int) -> UInt64 { cshim_event_token(base, Int32(index)) }
}
