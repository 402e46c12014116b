/* A minimal io_uring echo server, the floor issue 12 measures a `--backend uring` against:
 * one thread, one ring (SINGLE_ISSUER | DEFER_TASKRUN), multishot accept, multishot
 * receive into a provided-buffer ring (no buffer per idle connection), one send per
 * received buffer, submitted together once per loop turn. Raw system calls and the
 * kernel's own header, as Conduit's shim would use them: no liburing.
 * Usage: uring_echo_server [PORT] [--plain-setup] [--fixed-files]; SIGTERM or SIGINT stops it.
 * The switches turn single features off or on, to measure each on its own:
 *   --plain-setup  a ring without SINGLE_ISSUER and DEFER_TASKRUN (completion work runs
 *                  when it comes, interrupting the loop, instead of in a batch in our wait)
 *   --fixed-files  accepted sockets go straight into a registered file table (accept
 *                  "direct"), and receives and sends name them by index: the kernel
 *                  skips looking the descriptor up on every operation. TCP_NODELAY is
 *                  then set on the listener, which accepted sockets inherit. */
#include "server.h"

#include <linux/io_uring.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <poll.h>
#include <sys/syscall.h>

#define RING_ENTRIES 1024
#define BUFFER_COUNT 4096 /* a power of two */
#define BUFFER_SIZE 4096
#define GROUP 0

static int plain_setup, fixed_files;

enum kind { ACCEPT = 1, RECEIVE = 2, SEND = 3, SIGNAL = 4 };

static uint64_t tag(enum kind kind, int fd, unsigned bid)
{
    return ((uint64_t)kind << 56) | ((uint64_t)bid << 32) | (uint32_t)fd;
}

struct ring {
    int fd;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    unsigned pending; /* SQEs filled and not yet submitted */
};

/* Where each provided buffer's bytes are going: its connection and how much is left. */
static struct {
    int fd;
    unsigned offset, length;
} in_flight[BUFFER_COUNT];

static struct io_uring_buf_ring *buffers;
static unsigned char *buffer_memory;

static int ring_setup(struct ring *r)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = plain_setup ? 0 : IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    r->fd = (int)syscall(SYS_io_uring_setup, RING_ENTRIES, &p);
    if (r->fd < 0) return -1;
    if (!(p.features & IORING_FEAT_SINGLE_MMAP)) return -1;
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t size = sq_size > cq_size ? sq_size : cq_size;
    unsigned char *rings = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                                IORING_OFF_SQ_RING);
    r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (rings == MAP_FAILED || r->sqes == MAP_FAILED) return -1;
    r->sq_head = (unsigned *)(rings + p.sq_off.head);
    r->sq_tail = (unsigned *)(rings + p.sq_off.tail);
    r->sq_mask = (unsigned *)(rings + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(rings + p.sq_off.array);
    r->cq_head = (unsigned *)(rings + p.cq_off.head);
    r->cq_tail = (unsigned *)(rings + p.cq_off.tail);
    r->cq_mask = (unsigned *)(rings + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(rings + p.cq_off.cqes);
    r->pending = 0;
    if (fixed_files) {
        /* A sparse table: accept direct fills a free slot and returns its index. */
        struct io_uring_rsrc_register files;
        memset(&files, 0, sizeof files);
        files.nr = (unsigned)descriptor_limit(); /* the kernel caps it at the file limit */
        files.flags = IORING_RSRC_REGISTER_SPARSE;
        if (syscall(SYS_io_uring_register, r->fd, IORING_REGISTER_FILES2, &files, sizeof files) < 0) return -1;
    }
    return 0;
}

static void give_back(unsigned bid)
{
    unsigned short tail = buffers->tail;
    struct io_uring_buf *b = &buffers->bufs[tail & (BUFFER_COUNT - 1)];
    b->addr = (uint64_t)(uintptr_t)(buffer_memory + (size_t)bid * BUFFER_SIZE);
    b->len = BUFFER_SIZE;
    b->bid = (unsigned short)bid;
    atomic_store_explicit((_Atomic unsigned short *)&buffers->tail, (unsigned short)(tail + 1),
                          memory_order_release);
}

static int buffers_setup(struct ring *r)
{
    size_t ring_size = BUFFER_COUNT * sizeof(struct io_uring_buf);
    buffers = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    buffer_memory = mmap(NULL, (size_t)BUFFER_COUNT * BUFFER_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buffers == MAP_FAILED || buffer_memory == MAP_FAILED) return -1;
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)buffers;
    reg.ring_entries = BUFFER_COUNT;
    reg.bgid = GROUP;
    if (syscall(SYS_io_uring_register, r->fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) return -1;
    buffers->tail = 0;
    for (unsigned bid = 0; bid < BUFFER_COUNT; bid++) give_back(bid);
    return 0;
}

/* The next free SQE, zeroed; submits what is pending first if the ring is full. */
static struct io_uring_sqe *next_sqe(struct ring *r)
{
    unsigned tail = *r->sq_tail;
    unsigned head = atomic_load_explicit((_Atomic unsigned *)r->sq_head, memory_order_acquire);
    if (tail - head >= RING_ENTRIES) {
        syscall(SYS_io_uring_enter, r->fd, r->pending, 0, 0, NULL, 0);
        r->pending = 0;
    }
    unsigned index = tail & *r->sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    r->sq_array[index] = index;
    atomic_store_explicit((_Atomic unsigned *)r->sq_tail, tail + 1, memory_order_release);
    r->pending++;
    return sqe;
}

/* Names connection `fd` in an SQE: a descriptor, or with --fixed-files a table index. */
static void target(struct io_uring_sqe *sqe, int fd)
{
    sqe->fd = fd;
    if (fixed_files) sqe->flags |= IOSQE_FIXED_FILE;
}

static void close_connection(struct ring *r, int fd)
{
    if (!fixed_files) {
        close(fd);
        return;
    }
    struct io_uring_sqe *sqe = next_sqe(r);
    sqe->opcode = IORING_OP_CLOSE;
    sqe->file_index = (unsigned)fd + 1; /* 1-based: 0 means "a plain descriptor" */
    sqe->user_data = 0;
}

static void arm_accept(struct ring *r, int listener)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    sqe->opcode = IORING_OP_ACCEPT;
    sqe->fd = listener;
    sqe->ioprio = IORING_ACCEPT_MULTISHOT;
    /* A direct descriptor is no descriptor of the process: close-on-exec means nothing. */
    if (fixed_files)
        sqe->file_index = IORING_FILE_INDEX_ALLOC;
    else
        sqe->accept_flags = SOCK_CLOEXEC;
    sqe->user_data = tag(ACCEPT, listener, 0);
}

static void arm_receive(struct ring *r, int fd)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    sqe->opcode = IORING_OP_RECV;
    sqe->ioprio = IORING_RECV_MULTISHOT;
    sqe->flags = IOSQE_BUFFER_SELECT;
    target(sqe, fd);
    sqe->buf_group = GROUP;
    sqe->user_data = tag(RECEIVE, fd, 0);
}

static void send_rest(struct ring *r, unsigned bid)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    sqe->opcode = IORING_OP_SEND;
    target(sqe, in_flight[bid].fd);
    sqe->addr = (uint64_t)(uintptr_t)(buffer_memory + (size_t)bid * BUFFER_SIZE + in_flight[bid].offset);
    sqe->len = in_flight[bid].length - in_flight[bid].offset;
    sqe->msg_flags = MSG_NOSIGNAL;
    sqe->user_data = tag(SEND, in_flight[bid].fd, bid);
}

static int open_connections;

static void completed(struct ring *r, struct io_uring_cqe *cqe, int *running, uint64_t *signal_info)
{
    enum kind kind = (enum kind)(cqe->user_data >> 56);
    int fd = (int)(uint32_t)cqe->user_data;
    unsigned bid = (unsigned)((cqe->user_data >> 32) & 0xffff);
    switch (kind) {
    case ACCEPT:
        if (cqe->res >= 0) {
            int one = 1;
            if (!fixed_files) setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            open_connections++;
            arm_receive(r, cqe->res);
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept(r, fd);
        break;
    case RECEIVE:
        if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
            unsigned used = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            in_flight[used].fd = fd;
            in_flight[used].offset = 0;
            in_flight[used].length = (unsigned)cqe->res;
            send_rest(r, used);
            if (!(cqe->flags & IORING_CQE_F_MORE)) arm_receive(r, fd);
        } else if (cqe->res == -ENOBUFS) {
            arm_receive(r, fd); /* every buffer is in flight: try again once some return */
        } else if (!(cqe->flags & IORING_CQE_F_MORE)) {
            close_connection(r, fd); /* end of stream or an error */
            open_connections--;
        }
        break;
    case SEND:
        if (cqe->res > 0 && in_flight[bid].offset + (unsigned)cqe->res < in_flight[bid].length) {
            in_flight[bid].offset += (unsigned)cqe->res;
            send_rest(r, bid);
        } else {
            give_back(bid);
        }
        break;
    case SIGNAL:
        *running = 0;
        break;
    default: /* a close of a fixed file */
        break;
    }
    (void)signal_info;
}

int main(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--plain-setup") == 0) {
            plain_setup = 1;
        } else if (strcmp(argv[i], "--fixed-files") == 0) {
            fixed_files = 1;
        } else {
            fprintf(stderr, "usage: %s [PORT] [--plain-setup] [--fixed-files]\n", argv[0]);
            return 64;
        }
    }
    int port = parse_port(argc < 2 ? argc : 2, argv);
    int signals = stop_signals();
    struct ring r;
    if (signals < 0 || ring_setup(&r) < 0 || buffers_setup(&r) < 0) {
        fprintf(stderr, "uring_echo_server: io_uring set-up: %s\n", strerror(errno));
        return 1;
    }
    int listener = listen_loopback(port);
    if (fixed_files) {
        int one = 1;
        setsockopt(listener, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    arm_accept(&r, listener);
    /* Polled, not read through the ring: a read the kernel retries from an io-wq worker
       would look for signals in the worker's queue, not this process's. */
    struct io_uring_sqe *sqe = next_sqe(&r);
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = signals;
    sqe->poll32_events = POLLIN;
    sqe->user_data = tag(SIGNAL, signals, 0);

    uint64_t unused = 0;
    for (int running = 1; running;) {
        /* One call per turn: submit what this turn prepared, wait for at least one. */
        long entered = syscall(SYS_io_uring_enter, r.fd, r.pending, 1, IORING_ENTER_GETEVENTS, NULL, 0);
        if (entered < 0 && errno != EINTR) {
            perror("io_uring_enter");
            break;
        }
        if (entered >= 0) r.pending = 0;
        unsigned head = *r.cq_head;
        unsigned tail = atomic_load_explicit((_Atomic unsigned *)r.cq_tail, memory_order_acquire);
        for (; head != tail; head++) completed(&r, &r.cqes[head & *r.cq_mask], &running, &unused);
        atomic_store_explicit((_Atomic unsigned *)r.cq_head, head, memory_order_release);
    }
    close(listener);
    close(signals);
    close(r.fd);
    return 0;
}
