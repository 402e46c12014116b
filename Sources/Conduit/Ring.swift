import CShim
import Glibc

/// An event loop's io_uring ring: the owner of the C target's ring, which guards what
/// the kernel and the C code cannot.
///
/// - **Lifetime.** Once `close()` has freed it, the ring is dead to every caller: each
///   entry checks `isClosed` and stops the process with a message naming the misuse
///   (the C memory is gone; touching it would be a use after free).
/// - **Thread.** The ring is made with SINGLE_ISSUER: the thread that enables it is the
///   only one the kernel lets in (`io_uring_enter` from any other fails with EEXIST).
///   Every system call checks that the caller is that thread.
/// - **Operations in flight.** Every operation queued gets exactly one final completion
///   (one without IORING_CQE_F_MORE); `operationsInFlight` counts those not yet seen,
///   so closing waits until it is zero instead of guessing.
/// - **A full submission queue** never overwrites an entry: the queue is submitted and,
///   if the kernel will not take it now, the operation waits in `waiting`, in order,
///   for the next turn.
/// - **Queued operations name sockets by number**, resolved only when the kernel takes
///   them: `forget(descriptor:)` voids those for a socket about to close, so none can
///   reach a later socket with the same number.
///
/// A completion's `user_data` is a registry token (descriptor and generation, so a
/// completion for a descriptor closed and reused since is recognised as stale) with
/// the operation's kind in its top four bits.
package final class Ring {
    /// What an operation queued on the ring was for.
    package enum Kind: UInt64 {
        /// Nothing to hand on: cancels, and operations voided before submission.
        case ignored = 0
        /// A connection's multishot receive.
        case receive = 2
        /// A connection's send of its queued output.
        case send = 4
        /// A listener's multishot accept: one completion per new connection.
        case accept = 5
        /// The multishot poll of the loop's wake-up eventfd: another thread handed the
        /// loop work.
        case wake = 6
        /// A one-shot readiness poll of a socket: a connect in progress (writable), or a
        /// listener that accepts on readiness (readable).
        case readiness = 7
    }

    /// How the ring is made (a test makes small ones, to fill them).
    package struct Configuration: Sendable {
        /// Submission queue entries (the completion queue has four times as many).
        package var entries: UInt32 = 4096
        /// Provided receive buffers, a power of two. 4,096 of 4 KiB (16 MiB of address
        /// space, committed only as the kernel fills them) cover a turn's completions
        /// with room to spare.
        package var bufferCount: UInt32 = 4096
        /// Bytes per receive buffer: a page, and more than most messages.
        package var bufferSize: UInt32 = 4096

        /// The ring every loop of the `uring` backend uses.
        package static let standard = Configuration()

        /// A ring of `entries` operations and `bufferCount` buffers of `bufferSize` bytes.
        package init(entries: UInt32 = 4096, bufferCount: UInt32 = 4096, bufferSize: UInt32 = 4096) {
            self.entries = entries
            self.bufferCount = bufferCount
            self.bufferSize = bufferSize
        }
    }

    /// An operation that found the submission queue full, kept until there is room.
    private enum Operation {
        case receive(descriptor: Int32, userData: UInt64)
        case accept(descriptor: Int32, userData: UInt64)
        case send(descriptor: Int32, bytes: UnsafeRawBufferPointer, userData: UInt64)
        case poll(descriptor: Int32, events: UInt32, multishot: Bool, userData: UInt64)
        case cancel(target: UInt64, all: Bool, userData: UInt64)
        case nop(userData: UInt64)

        var descriptor: Int32? {
            switch self {
            case .receive(let descriptor, _), .accept(let descriptor, _), .send(let descriptor, _, _),
                .poll(let descriptor, _, _, _):
                return descriptor
            case .cancel, .nop:
                return nil
            }
        }

        var userData: UInt64 {
            switch self {
            case .receive(_, let userData), .accept(_, let userData), .send(_, _, let userData),
                .poll(_, _, _, let userData), .cancel(_, _, let userData), .nop(let userData):
                return userData
            }
        }
    }

    private static let kindShift: UInt64 = 60
    private static let tokenMask: UInt64 = (1 << kindShift) - 1

    private let ring: UnsafeMutablePointer<cshim_ring>
    /// Where each wait copies its completions; reused every turn.
    package let completions: UnsafeMutablePointer<cshim_completion>
    let capacity: Int
    /// The thread the kernel takes system calls from, once enabled, by its kernel thread
    /// ID (a `pthread_t` can be reused by a thread started after this one ended).
    private var issuer: Int32?
    /// Freed (`close()`): nothing may touch the ring any more.
    package private(set) var isClosed = false
    /// Operations queued (in the submission queue, in `waiting`, or in the kernel) whose
    /// final completion has not been seen.
    package private(set) var operationsInFlight = 0
    /// Operations kept, in order, while the submission queue was full.
    private var waiting: [Operation] = []
    /// Errors (errno values) to report from the next submits and waits instead of
    /// entering the kernel: tests reach the paths of a kernel under pressure with them.
    package var injectedFailures: [Int32] = []
    /// An error to report from enabling instead of enabling (a kernel that refuses).
    package var injectedEnableFailure: Int32?

    /// Beyond this many queued operations, closing a socket submits them rather than
    /// scanning them for its descriptor (one system call instead of a long scan).
    private static let voidScanLimit: UInt32 = 64

    package init(_ configuration: Configuration = .standard) throws(SocketError) {
        var error: Int32 = 0
        var reason = [CChar](repeating: 0, count: 256)
        guard
            let made = cshim_ring_create(
                configuration.entries, configuration.bufferCount, configuration.bufferSize, &error, &reason, reason.count)
        else {
            // The reason names the step that failed, then the error's text.
            let text = String(cCharacters: reason)
            let step = text.firstRange(of: ": ").map { String(text[..<$0.lowerBound]) } ?? text
            throw SocketError(.transportFailed, code: -error, operation: step)
        }
        ring = made
        capacity = Int(configuration.entries)
        completions = .allocate(capacity: capacity)
    }

    deinit {
        if !isClosed {
            // Off the issuer thread nothing can be waited for: the kernel may still write
            // into a receive buffer or read a send's bytes, so that memory stays mapped.
            cshim_ring_destroy(ring, operationsInFlight == 0 || issuer == nil ? 1 : 0)
        }
        completions.deallocate()
    }

    // MARK: lifetime and thread

    /// True once a thread has enabled the ring.
    package var isEnabled: Bool { issuer != nil }

    /// True on the thread that may enter the ring.
    package var isOnIssuerThread: Bool { issuer == cshim_thread_id() }

    private func checkOpen(_ what: StaticString) {
        precondition(!isClosed, "io_uring: \(what) on a ring that was closed (its event loop has finished)")
    }

    private func checkIssuer(_ what: StaticString) {
        checkOpen(what)
        precondition(
            isOnIssuerThread,
            "io_uring: \(what) from a thread other than the one that first ran this loop; a uring loop runs on one thread for its whole life (the ring's only issuer)"
        )
    }

    /// Makes the calling thread the ring's only issuer; done on the loop's thread before
    /// its first turn. Later runs must come from the same thread.
    package func enableOnThisThread() throws(SocketError) {
        checkOpen("enable")
        if issuer != nil {
            checkIssuer("running the loop")
            return
        }
        if let injected = injectedEnableFailure {
            throw SocketError(.transportFailed, code: injected, operation: "io_uring_register(ENABLE_RINGS)")
        }
        let result = cshim_ring_enable(ring)
        guard result == 0 else {
            throw SocketError(.transportFailed, code: -result, operation: "io_uring_register(ENABLE_RINGS)")
        }
        issuer = cshim_thread_id()
    }

    private func takeInjectedFailure() -> Int32? {
        injectedFailures.isEmpty ? nil : injectedFailures.removeFirst()
    }

    /// Cancels every operation, waits (at most `limit`) until each has delivered its
    /// final completion, passing each completion to `completed` (whose job is to let
    /// go of what the operation used), and closes the ring. Returns false when the limit
    /// passed first: the receive buffers then stay mapped, and `completed` is not called
    /// for what is left.
    @discardableResult
    package func close(within limit: Duration, _ completed: (cshim_completion) -> Void) -> Bool {
        guard !isClosed else { return true }
        var quiet = operationsInFlight == 0 || issuer == nil
        if !quiet, isOnIssuerThread {
            cancelAll()
            let deadline = Monotonic.now() &+ limit.nanoseconds
            while operationsInFlight > 0 && Monotonic.now() < deadline {
                guard let count = try? wait(timeoutNanoseconds: 10_000_000) else { break }
                for index in 0..<count {
                    let completion = completions[index]
                    noteCompletion(completion)
                    completed(completion)
                }
            }
            quiet = operationsInFlight == 0
        }
        isClosed = true
        cshim_ring_destroy(ring, quiet ? 1 : 0)
        return quiet
    }

    // MARK: operations

    /// The `user_data` for an operation of `kind` on behalf of `token`.
    @inline(__always)
    package static func userData(_ kind: Kind, token: UInt64) -> UInt64 { kind.rawValue << kindShift | token }

    /// The kind and registry token a completion carries.
    @inline(__always)
    package static func split(_ userData: UInt64) -> (kind: UInt64, token: UInt64) {
        (userData >> kindShift, userData & tokenMask)
    }

    /// Counts a completion: the final one of its operation ends it.
    @inline(__always)
    package func noteCompletion(_ completion: cshim_completion) {
        var completion = completion
        if cshim_completion_more(&completion) == 0 { operationsInFlight -= 1 }
    }

    @inline(__always)
    private func queue(_ operation: @autoclosure () -> Operation, _ prepare: () -> Int32) {
        checkOpen("queueing an operation")
        operationsInFlight += 1
        if waiting.isEmpty && prepare() != 0 { return }
        keep(operation())
    }

    /// The queue is full, or operations already wait: submit now if the kernel will
    /// take them, else keep `operation` (after those waiting, to keep their order).
    private func keep(_ operation: Operation) {
        if waiting.isEmpty, isOnIssuerThread, submitNow(runningDeferredWork: false), prepare(operation) { return }
        waiting.append(operation)
    }

    private func prepare(_ operation: Operation) -> Bool {
        switch operation {
        case .receive(let descriptor, let userData): cshim_ring_receive(ring, descriptor, userData) != 0
        case .accept(let descriptor, let userData): cshim_ring_accept(ring, descriptor, userData) != 0
        case .send(let descriptor, let bytes, let userData):
            cshim_ring_send(ring, descriptor, bytes.baseAddress, bytes.count, userData) != 0
        case .poll(let descriptor, let events, let multishot, let userData):
            cshim_ring_poll(ring, descriptor, events, multishot ? 1 : 0, userData) != 0
        case .cancel(let target, let all, let userData): cshim_ring_cancel(ring, target, all ? 1 : 0, userData) != 0
        case .nop(let userData): cshim_ring_nop(ring, userData) != 0
        }
    }

    /// Moves operations kept while the queue was full into it, as far as there is room.
    private func queueWaiting() {
        var moved = 0
        while moved < waiting.count && prepare(waiting[moved]) { moved += 1 }
        if moved > 0 { waiting.removeFirst(moved) }
    }

    /// Operations kept because the submission queue was full.
    package var waitingCount: Int { waiting.count }

    /// A poll of `descriptor` for `events`: one completion, or with `multishot` one each
    /// time the events occur.
    func poll(_ descriptor: Int32, events: UInt32, multishot: Bool = false, userData: UInt64) {
        queue(.poll(descriptor: descriptor, events: events, multishot: multishot, userData: userData)) {
            cshim_ring_poll(ring, descriptor, events, multishot ? 1 : 0, userData)
        }
    }

    /// A multishot accept on a listening socket.
    func accept(_ descriptor: Int32, userData: UInt64) {
        queue(.accept(descriptor: descriptor, userData: userData)) { cshim_ring_accept(ring, descriptor, userData) }
    }

    /// A multishot receive into the provided buffers.
    @inline(__always)
    package func receive(_ descriptor: Int32, userData: UInt64) {
        queue(.receive(descriptor: descriptor, userData: userData)) { cshim_ring_receive(ring, descriptor, userData) }
    }

    /// A send of `bytes`, which must stay where they are until its completion.
    @inline(__always)
    func send(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, userData: UInt64) {
        queue(.send(descriptor: descriptor, bytes: bytes, userData: userData)) {
            cshim_ring_send(ring, descriptor, bytes.baseAddress, bytes.count, userData)
        }
    }

    /// Cancels every operation queued with `target`.
    func cancel(_ target: UInt64) {
        let userData = Self.userData(.ignored, token: 0)
        queue(.cancel(target: target, all: true, userData: userData)) { cshim_ring_cancel(ring, target, 1, userData) }
    }

    /// Cancels every operation in the ring.
    func cancelAll() {
        let userData = Self.userData(.ignored, token: 0)
        queue(.cancel(target: 0, all: false, userData: userData)) { cshim_ring_cancel(ring, 0, 0, userData) }
    }

    /// A no-op with `userData`: one completion, result 0.
    package func nop(userData: UInt64) {
        queue(.nop(userData: userData)) { cshim_ring_nop(ring, userData) }
    }

    /// Voids every operation queued and not yet submitted that names `descriptor`, which
    /// is about to close: each becomes a no-op (a send keeps its user data, so its
    /// completion still frees its bytes; the others complete as `.ignored`), so that none
    /// reaches a socket opened later under the same number. Past a few queued operations
    /// it submits them instead, when it can.
    package func forget(descriptor: Int32) {
        checkOpen("forgetting a socket's operations")
        let queued = cshim_ring_unsubmitted(ring)
        if queued > Self.voidScanLimit && waiting.isEmpty && isOnIssuerThread
            && submitNow(runningDeferredWork: false) && cshim_ring_unsubmitted(ring) == 0
        {
            return
        }
        for index in 0..<cshim_ring_unsubmitted(ring) {
            let entry = cshim_ring_unsubmitted_entry(ring, index)!
            guard entry.pointee.fd == descriptor, entry.pointee.opcode != UInt8(IORING_OP_NOP.rawValue) else { continue }
            cshim_ring_void(entry, Self.voided(entry.pointee.user_data))
        }
        for index in waiting.indices where waiting[index].descriptor == descriptor {
            waiting[index] = .nop(userData: Self.voided(waiting[index].userData))
        }
    }

    private static func voided(_ userData: UInt64) -> UInt64 {
        split(userData).kind == Kind.send.rawValue ? userData : Self.userData(.ignored, token: 0)
    }

    // MARK: system calls (issuer thread only)

    /// Submits what is queued, without waiting; with `runningDeferredWork` the kernel
    /// also finishes the work DEFER_TASKRUN holds for our wait (a cancelled receive lets
    /// go of its socket now). Completions stay for the next wait. Returns false when the
    /// kernel did not take everything (a transient refusal: what is left goes with the
    /// next wait).
    @discardableResult
    package func submit(runningDeferredWork: Bool) -> Bool {
        checkIssuer("submitting")
        queueWaiting()
        return submitNow(runningDeferredWork: runningDeferredWork)
    }

    private func submitNow(runningDeferredWork: Bool) -> Bool {
        if takeInjectedFailure() != nil { return false }
        while true {
            let result = cshim_ring_submit(ring, runningDeferredWork ? 1 : 0)
            if result == -EINTR { continue }
            return result >= 0 && cshim_ring_unsubmitted(ring) == 0
        }
    }

    /// Submits what is queued and waits for completions (at most `timeoutNanoseconds`;
    /// 0: do not wait; negative: no limit); returns how many were copied into
    /// `completions`. What a ring under pressure says (EINTR, ETIME, EBUSY when the
    /// completion queue is full, EAGAIN and ENOMEM) is transient: whatever completed is
    /// returned, and the next turn tries again. Anything else means the ring cannot go
    /// on, and is thrown.
    package func wait(timeoutNanoseconds: Int64) throws(SocketError) -> Int {
        checkIssuer("waiting")
        queueWaiting()
        var entered: Int32 = 0
        var count = 0
        if let injected = takeInjectedFailure() {
            entered = -injected
        } else {
            count = Int(cshim_ring_wait(ring, completions, Int32(capacity), timeoutNanoseconds, &entered))
        }
        switch -entered {
        case 0, EINTR, ETIME:
            lastTransientFailure = 0
            return count
        case EBUSY, EAGAIN, ENOMEM:
            lastTransientFailure = -entered
            return count
        case EEXIST:
            preconditionFailure("io_uring: the kernel refused a thread that is not the ring's issuer (EEXIST)")
        default:
            throw SocketError(.transportFailed, code: -entered, operation: "io_uring_enter")
        }
    }

    /// The transient refusal (EAGAIN, ENOMEM, EBUSY) of the last wait, or 0.
    package private(set) var lastTransientFailure: Int32 = 0

    /// True while completions wait in the kernel's overflow list (the completion queue
    /// was full); the next wait flushes them.
    package var hasOverflowed: Bool {
        checkOpen("reading the ring's flags")
        return cshim_ring_overflowed(ring) != 0
    }

    /// The submission queue's tail as the kernel sees it: moves only when a submit
    /// publishes what was queued.
    package var publishedTail: UInt32 { cshim_ring_published_tail(ring) }

    /// Operations queued in the submission queue and not yet taken by the kernel.
    package var unsubmitted: UInt32 { cshim_ring_unsubmitted(ring) }

    // MARK: receive buffers

    @inline(__always)
    func buffer(_ id: UInt32) -> UnsafeMutableRawPointer { cshim_ring_buffer(ring, id) }

    @inline(__always)
    func returnBuffer(_ id: UInt32) { cshim_ring_buffer_return(ring, id) }
}
