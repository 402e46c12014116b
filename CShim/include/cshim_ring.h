// The io_uring backend's ring, driven on the raw system calls with the kernel's own
// header (<linux/io_uring.h>, from libc6-dev): no liburing. The ring protocol (shared
// head and tail indices read and written with acquire/release ordering, SQEs prepared
// in place, a provided-buffer ring the kernel picks receive buffers from) is the work
// this C target exists for. Swift queues operations with the `cshim_ring_*` calls,
// which only write shared memory, and makes one system call per loop turn:
// `cshim_ring_wait` submits everything queued and returns a batch of completions.
#ifndef CSHIM_RING_H
#define CSHIM_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/// One ring: its submission and completion queues and its provided receive buffers.
typedef struct cshim_ring cshim_ring;

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

/// A poll of `fd` for `events` (POLLIN, POLLOUT, ...): one completion, or with
/// `multishot` one each time the events occur, until cancelled or the kernel ends it
/// (a completion without IORING_CQE_F_MORE).
void cshim_ring_poll(cshim_ring *ring, int fd, uint32_t events, int multishot, uint64_t user_data);
/// A multishot accept on listening socket `fd`: one completion per connection, its
/// result the new socket (non-blocking, close-on-exec) or -errno, until cancelled or an
/// error ends it (a completion without IORING_CQE_F_MORE, for example on EMFILE).
void cshim_ring_accept(cshim_ring *ring, int fd, uint64_t user_data);
/// A multishot receive on `fd` into the provided buffers: one completion per chunk
/// received, each naming its buffer (`cshim_ring_buffer_id`), until end of stream, an
/// error, no free buffer (-ENOBUFS), or a cancel.
void cshim_ring_receive(cshim_ring *ring, int fd, uint64_t user_data);
/// A send of `length` bytes at `bytes` (MSG_NOSIGNAL); the bytes must stay put until
/// its completion.
void cshim_ring_send(cshim_ring *ring, int fd, const void *bytes, size_t length, uint64_t user_data);
/// Cancels every operation queued with `target` (its completions end with -ECANCELED);
/// the cancel's own completion carries `user_data`.
void cshim_ring_cancel(cshim_ring *ring, uint64_t target, uint64_t user_data);

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

/// Where provided buffer `id` starts.
void *cshim_ring_buffer(cshim_ring *ring, unsigned id);
/// Gives buffer `id` back to the kernel for later receives.
void cshim_ring_buffer_return(cshim_ring *ring, unsigned id);

#endif
