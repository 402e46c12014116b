// The io_uring backend's ring, driven on the raw system calls with the kernel's own
// header (<linux/io_uring.h>, from libc6-dev): no liburing. The ring protocol (shared
// head and tail indices read and written with acquire/release ordering, SQEs prepared
// in place, a provided-buffer ring the kernel picks receive buffers from) is the work
// this C target exists for. Swift queues operations with the `static inline`
// `cshim_ring_*` preparations, which only write memory the kernel does not read yet and
// are compiled into their Swift callers, and makes one call into C and one system call
// per loop turn: `cshim_ring_wait` publishes everything queued, submits it and returns
// a batch of completions. As everywhere in the shim, policy (which errors are
// transient, who may call, when the ring may close) is Swift's (`Ring.swift`).
#ifndef CSHIM_RING_H
#define CSHIM_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/io_uring.h>

/// The provided buffers' group: one per ring.
enum { CSHIM_RING_BUFFER_GROUP = 0 };

/// One ring: its submission and completion queues and its provided receive buffers.
/// Defined here, not hidden in the .c file, so that the preparations below are
/// `static inline`: queueing an operation is a few stores Swift's compiler inlines into
/// its caller, with no call into C. Only the functions here touch its fields.
typedef struct cshim_ring {
    int fd;
    unsigned entries;
    // Submission queue: the kernel reads from head to the tail we publish. SQEs are
    // prepared at `sq_local_tail` and published once per submit (`cshim_ring_publish`),
    // as liburing's flush does, so the kernel never sees an entry still being written.
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *sq_flags;
    unsigned sq_local_tail;
    struct io_uring_sqe *sqes;
    // Completion queue: we read from head to tail; the kernel owns the tail.
    unsigned *cq_head, *cq_tail, *cq_mask;
    unsigned cq_entries;
    struct io_uring_cqe *cqes;
    void *rings_memory;
    size_t rings_size;
    size_t sqes_size;
    // Provided receive buffers: a ring of descriptors and the memory they point to.
    struct io_uring_buf_ring *buffer_ring;
    size_t buffer_ring_size;
    unsigned char *buffer_memory;
    size_t buffer_memory_size;
    unsigned buffer_count, buffer_size;
    unsigned short buffer_tail;
} cshim_ring;

/// A completion, copied out of the completion queue: what `user_data` the operation
/// was queued with, its result (bytes, a descriptor, or -errno) and the kernel's flags.
typedef struct cshim_completion {
    uint64_t user_data;
    int32_t result;
    uint32_t flags;
} cshim_completion;

/// Whether this kernel and process can run a ring as Conduit uses it, at the size it
/// uses (`entries` operations, `buffer_count` buffers of `buffer_size` bytes): setup
/// with SINGLE_ISSUER and DEFER_TASKRUN, a provided-buffer ring, enabling, and a
/// multishot receive. Returns 0, or -errno of the first step that failed, with a
/// one-line reason in `reason` (for example "io_uring_setup: Operation not permitted").
int cshim_ring_probe(unsigned entries, unsigned buffer_count, unsigned buffer_size, char *reason, size_t reason_size);

/// A ring with room for `entries` queued operations and `buffer_count` (a power of
/// two) receive buffers of `buffer_size` bytes each. On failure returns NULL with
/// -errno in *error and a one-line reason naming the step in `reason`. Made on a
/// helper thread: the kernel interrupts the thread that created a ring (EINTR on its
/// next blocking call) when the ring closes.
cshim_ring *cshim_ring_create(unsigned entries, unsigned buffer_count, unsigned buffer_size, int *error, char *reason,
                              size_t reason_size);
/// Makes the calling thread the ring's only issuer (SINGLE_ISSUER): call it on the
/// thread that will wait on the ring, before its first wait. Returns 0 or -errno.
int cshim_ring_enable(cshim_ring *ring);
/// Closes the ring and frees it. With `release_memory`, also unmaps the receive
/// buffers; without (operations may still be in the kernel, which could write into a
/// buffer after it was unmapped and mapped again for something else), they stay mapped
/// for the life of the process.
void cshim_ring_destroy(cshim_ring *ring, int release_memory);

/// Publishes what is queued and submits it, without waiting. With
/// `run_deferred_work` the kernel also finishes the work DEFER_TASKRUN holds for our
/// wait (a cancelled receive lets go of its socket now); completions stay for the next
/// wait. Returns how many operations the kernel took, or -errno.
int cshim_ring_submit(cshim_ring *ring, int run_deferred_work);

/// Publishes and submits what is queued and waits until at least one completion is
/// ready or `timeout_ns` passes (0: do not wait; negative: no limit); then copies up to
/// `max` completions into `out` and returns how many. What `io_uring_enter` said is
/// left in *entered: 0, or -errno (-ETIME when the timeout passed, -EINTR, ...);
/// completions already posted are returned whatever it said.
int cshim_ring_wait(cshim_ring *ring, cshim_completion *out, int max, int64_t timeout_ns, int *entered);

/// True when a completion says its multishot operation goes on (IORING_CQE_F_MORE).
static inline int cshim_completion_more(const cshim_completion *c) { return (c->flags & IORING_CQE_F_MORE) != 0; }
/// True when a completion carries a provided buffer (IORING_CQE_F_BUFFER).
static inline int cshim_completion_has_buffer(const cshim_completion *c) { return (c->flags & IORING_CQE_F_BUFFER) != 0; }
/// The provided buffer a receive completion filled.
static inline unsigned cshim_completion_buffer_id(const cshim_completion *c) { return c->flags >> IORING_CQE_BUFFER_SHIFT; }

/// True while completions wait in the kernel's overflow list because the completion
/// queue was full (they are not lost: the next wait flushes them).
static inline int cshim_ring_overflowed(const cshim_ring *r) {
    return (atomic_load_explicit((_Atomic unsigned *)r->sq_flags, memory_order_acquire) & IORING_SQ_CQ_OVERFLOW) != 0;
}

/// Operations queued that the kernel has not taken yet.
static inline unsigned cshim_ring_unsubmitted(const cshim_ring *r) {
    return r->sq_local_tail - atomic_load_explicit((_Atomic unsigned *)r->sq_head, memory_order_acquire);
}

/// The `index`th (from 0) operation queued and not taken yet, to be voided by
/// `cshim_ring_void` when the socket it names closes before it is submitted.
static inline struct io_uring_sqe *cshim_ring_unsubmitted_entry(cshim_ring *r, unsigned index) {
    unsigned head = atomic_load_explicit((_Atomic unsigned *)r->sq_head, memory_order_acquire);
    return &r->sqes[(head + index) & *r->sq_mask];
}

/// The submission queue's tail as the kernel sees it (what was last published).
static inline unsigned cshim_ring_published_tail(const cshim_ring *r) {
    return atomic_load_explicit((_Atomic unsigned *)r->sq_tail, memory_order_acquire);
}

/// The next free submission entry, zeroed, or NULL when the queue is full (the
/// caller submits first, or keeps the operation for later).
static inline struct io_uring_sqe *cshim_ring_next_sqe(cshim_ring *r) {
    if (cshim_ring_unsubmitted(r) >= r->entries) return NULL;
    unsigned index = r->sq_local_tail & *r->sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    r->sq_array[index] = index;
    r->sq_local_tail++;
    return sqe;
}

/// Turns a queued operation into a no-op that completes once with result 0 and
/// `user_data` (for an operation whose socket closed before it was submitted).
static inline void cshim_ring_void(struct io_uring_sqe *sqe, uint64_t user_data) {
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_NOP;
    sqe->fd = -1;
    sqe->user_data = user_data;
}

// Each preparation below returns 1 when queued, 0 when the queue is full.

/// A no-op: one completion with result 0.
static inline int cshim_ring_nop(cshim_ring *r, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    if (sqe == NULL) return 0;
    cshim_ring_void(sqe, user_data);
    return 1;
}

/// A poll of `fd` for `events` (POLLIN, POLLOUT, ...): one completion, or with
/// `multishot` one each time the events occur, until cancelled or the kernel ends it
/// (a completion without IORING_CQE_F_MORE).
static inline int cshim_ring_poll(cshim_ring *r, int fd, uint32_t events, int multishot, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    if (sqe == NULL) return 0;
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = fd;
    sqe->poll32_events = events;
    sqe->len = multishot ? IORING_POLL_ADD_MULTI : 0;
    sqe->user_data = user_data;
    return 1;
}

/// A multishot operation on `fd` that takes no address of ours: an accept on a
/// listening socket (one completion per connection, non-blocking and close-on-exec)
/// or a receive into the provided buffers (one completion per chunk, naming its
/// buffer), until cancelled or an end (end of stream, an error, no free buffer:
/// a completion without IORING_CQE_F_MORE).
static inline int cshim_ring_multishot(cshim_ring *r, uint8_t opcode, int fd, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    if (sqe == NULL) return 0;
    sqe->opcode = opcode;
    sqe->fd = fd;
    sqe->user_data = user_data;
    if (opcode == IORING_OP_ACCEPT) {
        sqe->ioprio = IORING_ACCEPT_MULTISHOT;
        sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    } else {
        sqe->ioprio = IORING_RECV_MULTISHOT;
        sqe->flags = IOSQE_BUFFER_SELECT;
        sqe->buf_group = CSHIM_RING_BUFFER_GROUP;
    }
    return 1;
}

/// A multishot accept on listening socket `fd` (see `cshim_ring_multishot`).
static inline int cshim_ring_accept(cshim_ring *r, int fd, uint64_t user_data) {
    return cshim_ring_multishot(r, IORING_OP_ACCEPT, fd, user_data);
}

/// A multishot receive on `fd` into the provided buffers (see `cshim_ring_multishot`).
static inline int cshim_ring_receive(cshim_ring *r, int fd, uint64_t user_data) {
    return cshim_ring_multishot(r, IORING_OP_RECV, fd, user_data);
}

/// A send of `length` bytes at `bytes` (MSG_NOSIGNAL); the bytes must stay put until
/// its completion.
static inline int cshim_ring_send(cshim_ring *r, int fd, const void *bytes, size_t length, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    if (sqe == NULL) return 0;
    sqe->opcode = IORING_OP_SEND;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)bytes;
    sqe->len = (uint32_t)length;
    sqe->msg_flags = MSG_NOSIGNAL;
    sqe->user_data = user_data;
    return 1;
}

/// A cancel of the operations queued with `target` (`all`: every one of them; else
/// every operation in the ring, whatever its user data); they end with -ECANCELED,
/// and the cancel's own completion carries `user_data`.
static inline int cshim_ring_cancel(cshim_ring *r, uint64_t target, int all, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    if (sqe == NULL) return 0;
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = target;
    sqe->cancel_flags = all ? IORING_ASYNC_CANCEL_ALL : IORING_ASYNC_CANCEL_ANY;
    sqe->user_data = user_data;
    return 1;
}

/// Where provided buffer `id` starts.
static inline void *cshim_ring_buffer(cshim_ring *r, unsigned id) {
    return r->buffer_memory + (size_t)id * r->buffer_size;
}

/// Gives buffer `id` back to the kernel for later receives.
static inline void cshim_ring_buffer_return(cshim_ring *r, unsigned id) {
    struct io_uring_buf *b = &r->buffer_ring->bufs[r->buffer_tail & (r->buffer_count - 1)];
    b->addr = (uint64_t)(uintptr_t)cshim_ring_buffer(r, id);
    b->len = r->buffer_size;
    b->bid = (unsigned short)id;
    r->buffer_tail++;
    // Published at once: the kernel may pick it for the next receive.
    atomic_store_explicit((_Atomic unsigned short *)&r->buffer_ring->tail, r->buffer_tail, memory_order_release);
}

#endif
