import CShim
import Glibc

/// An event loop's io_uring ring (the `uring` backend): a thin owner of the C target's
/// ring and of the array its completions are copied into, reused every turn.
///
/// A completion's `user_data` is a registry token (descriptor and generation, so a
/// completion for a descriptor closed and reused since is recognised as stale) with
/// the operation's kind in its top four bits.
final class Ring {
    /// What an operation queued on the ring was for.
    enum Kind: UInt64 {
        /// The loop's epoll set has readiness to report (connects in progress).
        case epoll = 1
        /// A connection's multishot receive.
        case receive = 2
        /// A cancel; its own completion says nothing we need.
        case cancel = 3
        /// A connection's send of its queued output.
        case send = 4
        /// A listener's multishot accept: one completion per new connection.
        case accept = 5
        /// The multishot poll of the loop's wake-up eventfd: another thread handed the
        /// loop work.
        case wake = 6
    }

    private static let kindShift: UInt64 = 60
    private static let tokenMask: UInt64 = (1 << kindShift) - 1

    private let ring: UnsafeMutablePointer<cshim_ring>
    let completions: UnsafeMutablePointer<cshim_completion>
    let capacity: Int
    private var enabled = false
    /// Closed for good (`close()`): nothing may be queued any more.
    private(set) var closed = false

    /// Receive buffers: how many (a power of two) and how large. 4 KiB matches a page
    /// and most messages; 4,096 of them (16 MiB of address space, committed only when
    /// the kernel fills them) cover the completions of a turn with room to spare.
    static let bufferCount: UInt32 = 4096
    static let bufferSize: UInt32 = 4096

    init(entries: UInt32 = 4096) throws(SocketError) {
        var error: Int32 = 0
        guard let made = cshim_ring_create(entries, Self.bufferCount, Self.bufferSize, &error) else {
            throw SocketError(code: -error, operation: "io_uring_setup")
        }
        ring = made
        capacity = Int(entries)
        completions = .allocate(capacity: capacity)
    }

    deinit {
        if !closed { cshim_ring_destroy(ring) }
        completions.deallocate()
    }

    /// Cancels what is in flight, waits for it to end, and closes the ring; on the loop's
    /// thread (the ring's only issuer), when the loop has finished for good, so that no
    /// operation outlives the memory it uses (a send's bytes, the receive buffers).
    func close() {
        guard !closed else { return }
        closed = true
        if enabled { _ = cshim_ring_quiesce(ring, 100) }
        cshim_ring_destroy(ring)
    }

    /// The `user_data` for an operation of `kind` on behalf of `token`.
    @inline(__always)
    static func userData(_ kind: Kind, token: UInt64) -> UInt64 { kind.rawValue << kindShift | token }

    /// The kind and registry token a completion carries.
    @inline(__always)
    static func split(_ userData: UInt64) -> (kind: UInt64, token: UInt64) {
        (userData >> kindShift, userData & tokenMask)
    }

    /// Makes the calling thread the ring's only submitter; done on the loop's thread at
    /// the start of its first run.
    func enableOnThisThread() {
        guard !enabled else { return }
        let result = cshim_ring_enable(ring)
        precondition(result == 0, "io_uring: enabling the ring failed: errno \(-result)")
        enabled = true
    }

    func poll(_ fd: Int32, events: UInt32, multishot: Bool = false, userData: UInt64) {
        cshim_ring_poll(ring, fd, events, multishot ? 1 : 0, userData)
    }

    func accept(_ fd: Int32, userData: UInt64) { cshim_ring_accept(ring, fd, userData) }

    func receive(_ fd: Int32, userData: UInt64) { cshim_ring_receive(ring, fd, userData) }

    func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, userData: UInt64) {
        cshim_ring_send(ring, fd, bytes.baseAddress, bytes.count, userData)
    }

    func cancel(_ target: UInt64) { cshim_ring_cancel(ring, target, Self.userData(.cancel, token: 0)) }

    /// Submits what is queued and waits for completions (see `cshim_ring_wait`);
    /// returns how many were copied into `completions`, or -errno.
    func wait(timeoutNanoseconds: Int64) -> Int {
        Int(cshim_ring_wait(ring, completions, Int32(capacity), timeoutNanoseconds))
    }

    /// Submits what is queued, if anything: before a socket is closed, so that no
    /// operation queued for it reaches a socket opened later under the same number.
    func submitQueued() { _ = cshim_ring_submit(ring, 0) }

    /// Submits what is queued and lets the kernel finish the work it deferred to our
    /// wait, without taking completions: for a loop that stops, and a listener that
    /// closes (see `cshim_ring_submit`).
    func submit() { _ = cshim_ring_submit(ring, 1) }

    @inline(__always)
    func buffer(_ id: UInt32) -> UnsafeMutableRawPointer { cshim_ring_buffer(ring, id) }

    @inline(__always)
    func returnBuffer(_ id: UInt32) { cshim_ring_buffer_return(ring, id) }
}
