import CShim
import Glibc

/// The array `epoll_wait` fills, owned by one event loop and reused for every wait.
///
/// `struct epoll_event` is packed on x86_64 (12 bytes, the 8-byte token unaligned), so
/// the token is read with an unaligned load rather than through a Swift field.
final class EpollEvents {
    let base: UnsafeMutablePointer<epoll_event>
    let capacity: Int

    init(capacity: Int) {
        precondition(MemoryLayout<epoll_event>.stride == 12, "struct epoll_event must be packed")
        self.capacity = capacity
        self.base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    func flags(_ index: Int) -> UInt32 {
        UnsafeRawPointer(base).loadUnaligned(fromByteOffset: index * 12, as: UInt32.self)
    }

    @inline(__always)
    func token(_ index: Int) -> UInt64 {
        UnsafeRawPointer(base).loadUnaligned(fromByteOffset: index * 12 + 4, as: UInt64.self)
    }
}
