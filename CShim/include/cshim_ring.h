// The io_uring backend's ring, driven on the raw system calls with the kernel's own
// header (<linux/io_uring.h>, from libc6-dev): no liburing. The ring protocol (shared
// head and tail indices read and written with acquire/release ordering, SQEs prepared
// in place, a provided-buffer ring the kernel picks receive buffers from) is the work
// this C target exists for. Swift queues operations with the `static inline`
// `cshim_ring_*` preparations, which only write shared memory and are compiled into
// their Swift callers, and makes one call into C and one system call per loop turn:
// `cshim_ring_wait` submits everything queued and returns a batch of completions.
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
    // Submission queue: the kernel reads from head to tail; we own the tail.
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned sq_local_tail;
    struct io_uring_sqe *sqes;
    // Completion queue: we read from head to tail; the kernel owns the tail.
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
    void *rings_memory;
    size_t rings_size;
    size_t sqes_size;
    // Provided receive buffers: a ring of descriptors and the memory they point to.
    struct io_uring_buf_ring *buffer_ring;
    unsigned char *buffer_memory;
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

/// Whether this kernel and process can run the ring as Conduit uses it (setup with
/// SINGLE_ISSUER and DEFER_TASKRUN, a provided-buffer ring, multishot receive).
/// Returns 0, or -errno of the first step that failed, with a one-line reason in
/// `reason` (for example "io_uring_setup: Operation not permitted").
int cshim_ring_probe(char *reason, size_t reason_size);

/// A ring with room for `entries` queued operations and `buffer_count` (a power of
/// two) receive buffers of `buffer_size` bytes each. On failure returns NULL with
/// -errno in *error. Made on a helper thread: the kernel interrupts the thread that
/// created a ring (EINTR on its next blocking call) when the ring closes.
cshim_ring *cshim_ring_create(unsigned entries, unsigned buffer_count, unsigned buffer_size, int *error);
/// Makes the calling thread the ring's only issuer (SINGLE_ISSUER): call it on the
/// thread that will wait on the ring, before its first wait. Returns 0 or -errno.
int cshim_ring_enable(cshim_ring *ring);
/// Cancels every operation in the ring and waits (at most `max_turns` waits of 10 ms)
/// until each has completed; call it on the issuer thread before destroying a ring it
/// used, so that nothing the kernel still reads or writes (a send's bytes) is freed
/// under it. Returns 0, or -errno.
int cshim_ring_quiesce(cshim_ring *ring, int max_turns);
/// Closes the ring and frees its buffers. Operations still in the kernel are cancelled.
void cshim_ring_destroy(cshim_ring *ring);

/// Submits everything queued and waits until at least one completion is ready or
/// `timeout_ns` passes (0: do not wait; negative: no limit); copies up to `max`
/// completions into `out`. Returns how many, or -errno (-EINTR: try again).
int cshim_ring_wait(cshim_ring *ring, cshim_completion *out, int max, int64_t timeout_ns);

/// Submits what is queued, without waiting or taking completions (they stay for the
/// next wait); returns 0 or -errno. Two reasons to call it outside a wait:
/// - before a socket closes: an operation names its socket by descriptor number, looked
///   up only when the kernel takes it, so a queued one could otherwise reach a socket
///   opened meanwhile under the same number (nothing queued: no system call);
/// - when a loop stops, with `run_deferred_work`: the kernel then also finishes the work
///   DEFER_TASKRUN holds for our wait, so a cancelled receive lets go of its socket now.
int cshim_ring_submit(cshim_ring *ring, int run_deferred_work);

/// True when a completion says its multishot operation goes on (IORING_CQE_F_MORE).
static inline int cshim_completion_more(const cshim_completion *c) { return (c->flags & (1U << 1)) != 0; }
/// True when a completion carries a provided buffer (IORING_CQE_F_BUFFER).
static inline int cshim_completion_has_buffer(const cshim_completion *c) { return (c->flags & 1U) != 0; }
/// The provided buffer a receive completion filled.
static inline unsigned cshim_completion_buffer_id(const cshim_completion *c) { return c->flags >> 16; }


/// Operations queued that the kernel has not taken yet (internal to the ring).
static inline unsigned cshim_ring_queued(const cshim_ring *r) {
    return r->sq_local_tail - atomic_load_explicit((_Atomic unsigned *)r->sq_head, memory_order_acquire);
}

/// The next free submission entry, zeroed (internal to the ring). A full queue is
/// submitted first (without waiting: completions are read at the loop's next wait).
static inline struct io_uring_sqe *cshim_ring_next_sqe(cshim_ring *r) {
    if (cshim_ring_queued(r) >= r->entries) cshim_ring_submit(r, 0);
    unsigned index = r->sq_local_tail & *r->sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    r->sq_array[index] = index;
    r->sq_local_tail++;
    atomic_store_explicit((_Atomic unsigned *)r->sq_tail, r->sq_local_tail, memory_order_release);
    return sqe;
}

/// A poll of `fd` for `events` (POLLIN, POLLOUT, ...): one completion, or with
/// `multishot` one each time the events occur, until cancelled or the kernel ends it
/// (a completion without IORING_CQE_F_MORE).
static inline void cshim_ring_poll(cshim_ring *r, int fd, uint32_t events, int multishot, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = fd;
    sqe->poll32_events = events;
    sqe->len = multishot ? IORING_POLL_ADD_MULTI : 0;
    sqe->user_data = user_data;
}

/// A multishot accept on listening socket `fd`: one completion per connection, its
/// result the new socket (non-blocking, close-on-exec) or -errno, until cancelled or an
/// error ends it (a completion without IORING_CQE_F_MORE, for example on EMFILE).
static inline void cshim_ring_accept(cshim_ring *r, int fd, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    sqe->opcode = IORING_OP_ACCEPT;
    sqe->fd = fd;
    sqe->ioprio = IORING_ACCEPT_MULTISHOT;
    sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    sqe->user_data = user_data;
}

/// A multishot receive on `fd` into the provided buffers: one completion per chunk
/// received, each naming its buffer (`cshim_completion_buffer_id`), until end of
/// stream, an error, no free buffer (-ENOBUFS), or a cancel.
static inline void cshim_ring_receive(cshim_ring *r, int fd, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = fd;
    sqe->ioprio = IORING_RECV_MULTISHOT;
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = CSHIM_RING_BUFFER_GROUP;
    sqe->user_data = user_data;
}

/// A send of `length` bytes at `bytes` (MSG_NOSIGNAL); the bytes must stay put until
/// its completion.
static inline void cshim_ring_send(cshim_ring *r, int fd, const void *bytes, size_t length, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    sqe->opcode = IORING_OP_SEND;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)bytes;
    sqe->len = (uint32_t)length;
    sqe->msg_flags = MSG_NOSIGNAL;
    sqe->user_data = user_data;
}

/// A cancel of the operations `target` matches under `flags` (IORING_ASYNC_CANCEL_*);
/// its own completion carries `user_data`.
static inline void cshim_ring_prepare_cancel(cshim_ring *r, uint64_t target, uint32_t flags, uint64_t user_data) {
    struct io_uring_sqe *sqe = cshim_ring_next_sqe(r);
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = target;
    sqe->cancel_flags = flags;
    sqe->user_data = user_data;
}

/// Cancels every operation queued with `target` (its completions end with -ECANCELED);
/// the cancel's own completion carries `user_data`.
static inline void cshim_ring_cancel(cshim_ring *r, uint64_t target, uint64_t user_data) {
    cshim_ring_prepare_cancel(r, target, IORING_ASYNC_CANCEL_ALL, user_data);
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
