// The io_uring ring behind `--backend uring`; see cshim_ring.h. (_GNU_SOURCE comes
// from Package.swift.)
#include "cshim_ring.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring_setup(unsigned entries, unsigned flags, struct io_uring_params *p) {
    memset(p, 0, sizeof *p);
    p->flags = flags | IORING_SETUP_CQSIZE;
    // Room for many completions per submission (multishot receives post several).
    p->cq_entries = entries * 4;
    int fd = (int)syscall(SYS_io_uring_setup, entries, p);
    return fd < 0 ? -errno : fd;
}

static unsigned setup_flags(void) {
    // One thread submits and waits (the loop's): the kernel skips cross-thread locking
    // and runs completion work only when we wait, in a batch, not by interrupting us.
    // Disabled at first, so the thread that enables it (the loop's) becomes its issuer.
    return IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
}

static int map_rings(cshim_ring *r, const struct io_uring_params *p) {
    size_t sq_size = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    size_t cq_size = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    size_t size = sq_size > cq_size ? sq_size : cq_size;
    unsigned char *rings = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                                IORING_OFF_SQ_RING);
    if (rings == MAP_FAILED) return -errno;
    r->rings_memory = rings;
    r->rings_size = size;
    size_t sqes_size = p->sq_entries * sizeof(struct io_uring_sqe);
    void *sqes = mmap(NULL, sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) return -errno;
    r->sqes = sqes;
    r->sqes_size = sqes_size;
    r->entries = p->sq_entries;
    r->sq_head = (unsigned *)(rings + p->sq_off.head);
    r->sq_tail = (unsigned *)(rings + p->sq_off.tail);
    r->sq_mask = (unsigned *)(rings + p->sq_off.ring_mask);
    r->sq_array = (unsigned *)(rings + p->sq_off.array);
    r->sq_flags = (unsigned *)(rings + p->sq_off.flags);
    r->sq_local_tail = *r->sq_tail;
    r->cq_head = (unsigned *)(rings + p->cq_off.head);
    r->cq_tail = (unsigned *)(rings + p->cq_off.tail);
    r->cq_mask = (unsigned *)(rings + p->cq_off.ring_mask);
    r->cq_entries = p->cq_entries;
    r->cqes = (struct io_uring_cqe *)(rings + p->cq_off.cqes);
    return 0;
}

// Each mapping is recorded with its size as soon as it exists, so that a failure at
// any later step (the registration refused, say) unmaps exactly what was mapped.
static int register_buffers(cshim_ring *r, unsigned count, unsigned size) {
    size_t ring_size = count * sizeof(struct io_uring_buf);
    void *ring = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ring == MAP_FAILED) return -errno;
    r->buffer_ring = ring;
    r->buffer_ring_size = ring_size;
    // Anonymous memory is committed page by page on first touch: buffers the kernel
    // never fills cost no memory.
    size_t memory_size = (size_t)count * size;
    void *memory = mmap(NULL, memory_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return -errno;
    r->buffer_memory = memory;
    r->buffer_memory_size = memory_size;
    r->buffer_count = count;
    r->buffer_size = size;
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)ring;
    reg.ring_entries = count;
    reg.bgid = CSHIM_RING_BUFFER_GROUP;
    if (syscall(SYS_io_uring_register, r->fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) return -errno;
    r->buffer_tail = 0;
    r->buffer_ring->tail = 0;
    for (unsigned id = 0; id < count; id++) cshim_ring_buffer_return(r, id);
    return 0;
}

int cshim_ring_enable(cshim_ring *r) {
    return syscall(SYS_io_uring_register, r->fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0 ? -errno : 0;
}

/// Runs `body(argument)` on a new thread and waits for it; returns 0 or pthread's error.
/// The kernel ties a ring to the thread that creates it: when the ring closes, that
/// thread gets task work that interrupts its next blocking call with EINTR, whatever it
/// is doing by then (a test's blocking recv, a caller's sleep). Rings are created, and
/// the probe run, on such a helper thread, which ends at once: that signal goes nowhere.
static int on_helper_thread(void *(*body)(void *), void *argument) {
    pthread_t helper;
    int started = pthread_create(&helper, NULL, body, argument);
    if (started == 0) pthread_join(helper, NULL);
    return started;
}

void cshim_ring_destroy(cshim_ring *r, int release_memory) {
    if (r == NULL) return;
    // Closing the ring cancels what is still in the kernel.
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    if (r->sqes) munmap(r->sqes, r->sqes_size);
    if (r->rings_memory) munmap(r->rings_memory, r->rings_size);
    if (release_memory) {
        if (r->buffer_ring) munmap(r->buffer_ring, r->buffer_ring_size);
        if (r->buffer_memory) munmap(r->buffer_memory, r->buffer_memory_size);
    }
    free(r);
}

struct create_request {
    unsigned entries, buffer_count, buffer_size;
    int error;
    char *reason;
    size_t reason_size;
    cshim_ring *ring;
};

static cshim_ring *create_here(struct create_request *request);

static void *create_on_helper(void *argument) {
    struct create_request *request = argument;
    request->ring = create_here(request);
    return NULL;
}

// On a helper thread: see on_helper_thread.
cshim_ring *cshim_ring_create(unsigned entries, unsigned buffer_count, unsigned buffer_size, int *error, char *reason,
                              size_t reason_size) {
    struct create_request request = {entries, buffer_count, buffer_size, 0, reason, reason_size, NULL};
    int started = on_helper_thread(create_on_helper, &request);
    if (started != 0) snprintf(reason, reason_size, "pthread_create: %s", strerror(started));
    *error = started != 0 ? -started : request.error;
    return request.ring;
}

static cshim_ring *create_here(struct create_request *request) {
    cshim_ring *r = calloc(1, sizeof *r);
    if (r == NULL) {
        request->error = -ENOMEM;
        snprintf(request->reason, request->reason_size, "io_uring: %s", strerror(ENOMEM));
        return NULL;
    }
    struct io_uring_params p;
    const char *step = "io_uring_setup";
    int result = ring_setup(request->entries, setup_flags(), &p);
    r->fd = result;
    if (result >= 0 && !(p.features & IORING_FEAT_EXT_ARG)) result = -EOPNOTSUPP;
    if (result >= 0) {
        step = "mapping the io_uring queues";
        result = map_rings(r, &p);
    }
    if (result >= 0) {
        step = "io_uring_register(PBUF_RING)";
        result = register_buffers(r, request->buffer_count, request->buffer_size);
    }
    if (result < 0) {
        request->error = result;
        snprintf(request->reason, request->reason_size, "%s: %s", step, strerror(-result));
        cshim_ring_destroy(r, 1);
        return NULL;
    }
    return r;
}

/// Makes what was queued visible to the kernel: one release store of the tail.
static unsigned publish(cshim_ring *r) {
    atomic_store_explicit((_Atomic unsigned *)r->sq_tail, r->sq_local_tail, memory_order_release);
    return cshim_ring_unsubmitted(r);
}

int cshim_ring_submit(cshim_ring *r, int run_deferred_work) {
    unsigned count = publish(r);
    if (count == 0 && !run_deferred_work) return 0;
    unsigned flags = run_deferred_work ? IORING_ENTER_GETEVENTS : 0;
    long taken = syscall(SYS_io_uring_enter, r->fd, count, 0, flags, NULL, 0);
    return taken < 0 ? -errno : (int)taken;
}

static int reap(cshim_ring *r, cshim_completion *out, int max) {
    unsigned head = *r->cq_head;
    unsigned tail = atomic_load_explicit((_Atomic unsigned *)r->cq_tail, memory_order_acquire);
    int count = 0;
    while (head != tail && count < max) {
        const struct io_uring_cqe *cqe = &r->cqes[head & *r->cq_mask];
        out[count].user_data = cqe->user_data;
        out[count].result = cqe->res;
        out[count].flags = cqe->flags;
        count++;
        head++;
    }
    atomic_store_explicit((_Atomic unsigned *)r->cq_head, head, memory_order_release);
    return count;
}

int cshim_ring_wait(cshim_ring *r, cshim_completion *out, int max, int64_t timeout_ns, int *entered) {
    unsigned to_submit = publish(r);
    struct __kernel_timespec ts;
    struct io_uring_getevents_arg arg;
    memset(&arg, 0, sizeof arg);
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        arg.ts = (uint64_t)(uintptr_t)&ts;
    }
    // With DEFER_TASKRUN, completions are posted only while we are in the kernel asking
    // for them, so even a "do not wait" turn enters with GETEVENTS.
    unsigned wait_for = timeout_ns == 0 ? 0 : 1;
    long result = syscall(SYS_io_uring_enter, r->fd, to_submit, wait_for,
                          IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
    *entered = result < 0 ? -errno : 0;
    return reap(r, out, max);
}

/// Runs the ring as the backend will on a socket pair: a multishot receive into a
/// provided buffer must deliver one byte and stay armed. Ends by cancelling it and
/// waiting for its last completion (the ring is destroyed after).
static int probe_receive(cshim_ring *r, char *reason, size_t reason_size) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
        snprintf(reason, reason_size, "socketpair: %s", strerror(errno));
        return -errno;
    }
    cshim_ring_receive(r, pair[0], 1);
    int result = (int)write(pair[1], "x", 1) == 1 ? 0 : -errno;
    cshim_completion c;
    int got = 0, entered = 0;
    for (int turn = 0; result == 0 && got == 0 && turn < 10; turn++) {
        got = cshim_ring_wait(r, &c, 1, 100000000, &entered);
        if (got == 0 && entered < 0 && entered != -EINTR && entered != -ETIME) result = entered;
    }
    if (result == 0 && got == 0) result = -ETIMEDOUT;
    if (result == 0 && c.result < 0) result = c.result;
    if (result == 0 && !(cshim_completion_has_buffer(&c) && cshim_completion_more(&c))) result = -EOPNOTSUPP;
    if (result < 0) snprintf(reason, reason_size, "multishot receive into provided buffers: %s", strerror(-result));
    if (got > 0 && cshim_completion_more(&c)) {
        // Two completions end it: the receive's last, and the cancel's own.
        cshim_ring_cancel(r, 1, 1, 2);
        int ended = 0;
        for (int turn = 0; ended < 2 && turn < 100; turn++) {
            if (cshim_ring_wait(r, &c, 1, 10000000, &entered) == 1 && !cshim_completion_more(&c)) ended++;
        }
    }
    close(pair[0]);
    close(pair[1]);
    return result;
}

struct probe_request {
    unsigned entries, buffer_count, buffer_size;
    char *reason;
    size_t reason_size;
    int result;
};

static int probe_here(struct probe_request *request);

static void *probe_on_helper(void *argument) {
    struct probe_request *request = argument;
    request->result = probe_here(request);
    return NULL;
}

// On a helper thread (see on_helper_thread): the probe's ring must not leave an EINTR
// behind for the caller.
int cshim_ring_probe(unsigned entries, unsigned buffer_count, unsigned buffer_size, char *reason, size_t reason_size) {
    struct probe_request request = {entries, buffer_count, buffer_size, reason, reason_size, 0};
    int started = on_helper_thread(probe_on_helper, &request);
    if (started != 0) {
        snprintf(reason, reason_size, "pthread_create: %s", strerror(started));
        return -started;
    }
    return request.result;
}

static int probe_here(struct probe_request *request) {
    int error = 0;
    // Already on a helper thread: made here directly, not on yet another one.
    struct create_request create = {
        request->entries, request->buffer_count, request->buffer_size, 0, request->reason, request->reason_size, NULL};
    cshim_ring *r = create_here(&create);
    error = create.error;
    if (r == NULL) return error;
    int result = cshim_ring_enable(r);
    if (result < 0)
        snprintf(request->reason, request->reason_size, "io_uring_register(ENABLE_RINGS): %s", strerror(-result));
    if (result == 0) result = probe_receive(r, request->reason, request->reason_size);
    cshim_ring_destroy(r, 1);
    return result;
}
