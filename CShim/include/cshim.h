// The C half of Conduit's hot path: thin wrappers over the Linux socket and epoll
// calls. Every out-of-line function returns what the kernel said: a non-negative
// result, or -errno. Policy (retry on EINTR, EAGAIN as a normal outcome) lives in
// Swift, in one place, so both I/O backends share it.
#ifndef CSHIM_H
#define CSHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <sys/eventfd.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <signal.h>

#include "cshim_ring.h"
#include "cshim_tls.h"

// --- epoll ------------------------------------------------------------------

/// epoll_create1(EPOLL_CLOEXEC); returns the descriptor or -errno.
int cshim_epoll_create(void);
/// epoll_ctl with the user data set to `token`; returns 0 or -errno.
int cshim_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);
/// epoll_wait; returns the number of ready events or -errno.
int cshim_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms);

/// The user data (`token`) of a ready event. The kernel's struct is packed on
/// x86_64, so Swift reads the fields through these helpers.
static inline uint64_t cshim_event_token(const struct epoll_event *events, int i) {
    return events[i].data.u64;
}
/// The readiness flags of a ready event.
static inline uint32_t cshim_event_flags(const struct epoll_event *events, int i) {
    return events[i].events;
}
/// sizeof(struct epoll_event), so Swift allocates arrays of the right stride.
static inline size_t cshim_event_size(void) { return sizeof(struct epoll_event); }

// --- non-blocking I/O ---------------------------------------------------------

/// recv(fd, buf, len, 0); returns bytes read (0 at end of stream) or -errno.
ssize_t cshim_recv(int fd, void *buf, size_t len);
/// send(fd, buf, len, MSG_NOSIGNAL); returns bytes written or -errno.
ssize_t cshim_send(int fd, const void *buf, size_t len);
/// sendmsg over `count` iovecs with MSG_NOSIGNAL (writev that cannot raise SIGPIPE).
ssize_t cshim_writev(int fd, const struct iovec *iov, int count);
/// accept4 up to `max` connections, non-blocking and close-on-exec, into `fds`.
/// Returns the number accepted (possibly 0 if none were pending) or -errno when the
/// first accept failed; a later failure ends the batch early and is reported on the
/// next call, because the kernel keeps the condition.
int cshim_accept_batch(int listen_fd, int *fds, int max);
/// One accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) without batching; returns the descriptor
/// or -errno. The Swift backend's only shim call: Glibc's Swift module hides accept4
/// (it needs _GNU_SOURCE), and accept plus fcntl would cost two more system calls.
int cshim_accept4(int listen_fd);
/// Non-blocking connect; returns 0, -EINPROGRESS, or another -errno.
int cshim_connect(int fd, const struct sockaddr *addr, socklen_t len);
/// A non-blocking, close-on-exec stream socket of `family` (TCP for AF_INET and
/// AF_INET6, a Unix stream socket for AF_UNIX); returns it or -errno.
int cshim_stream_socket(int family);
/// getsockopt(SO_ERROR): the pending error of a socket (0 if none) or -errno.
int cshim_socket_error(int fd);

// --- signals ----------------------------------------------------------------------

/// A signalfd for `set` (close-on-exec, blocking reads); returns it or -errno. The
/// signals must be blocked in every thread. A thread reading it keeps them blocked,
/// unlike one waiting in sigwaitinfo, whose mask the kernel opens while it waits: the
/// Swift runtime's crash handler reads each thread's mask to pick the signal it pauses
/// threads with, and a status signal taken by sigwaitinfo never pauses anything.
int cshim_signalfd(const sigset_t *set);
/// Reads the next signal from a signalfd, blocking; returns its number or -errno.
int cshim_signalfd_next(int fd);

// --- threads --------------------------------------------------------------------

/// The calling thread's kernel ID (gettid), read once per thread and then kept in
/// thread-local storage: cheap enough to check on every ring submission. Unlike a
/// pthread_t, a thread ID is not handed to a thread started right after another ended.
int cshim_thread_id(void);

// --- socket options -------------------------------------------------------------

/// Sets an int-valued socket option; returns 0 or -errno.
int cshim_setsockopt_int(int fd, int level, int name, int value);
/// Reads an int-valued socket option into *value; returns 0 or -errno.
int cshim_getsockopt_int(int fd, int level, int name, int *value);
/// The process ID of a Unix domain socket's peer (SO_PEERCRED; struct ucred needs
/// _GNU_SOURCE, which Swift's Glibc module does not define), or -errno.
int cshim_peer_pid(int fd);
/// Bytes waiting in the receive queue (SIOCINQ) or -errno.
int cshim_inq(int fd);
/// Bytes not yet acknowledged in the send queue (SIOCOUTQ) or -errno.
int cshim_outq(int fd);

// --- processes -------------------------------------------------------------------

/// Asks the kernel to send `signal` to this process when its parent exits
/// (prctl(PR_SET_PDEATHSIG); prctl is variadic, so Swift cannot call it directly).
/// Returns 0 or -errno.
int cshim_die_with_parent(int signal);

// --- memory ----------------------------------------------------------------------

/// Fixes glibc's mmap threshold at `bytes` (mallopt(M_MMAP_THRESHOLD), from malloc.h,
/// which Swift's Glibc module does not bring): blocks from that size up are mapped and
/// unmapped, so their memory returns to the system when freed. Returns 1 on success.
int cshim_fix_mmap_threshold(int bytes);
/// Bytes malloc has handed out and not had back (mallinfo2: in-use arena blocks plus
/// mapped ones), for tests that look for memory a pattern of calls keeps.
size_t cshim_malloc_in_use(void);

#endif
