#ifndef _GNU_SOURCE
#error "CShim needs _GNU_SOURCE (accept4, SOCK_NONBLOCK); Package.swift defines it"
#endif

#include "cshim.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

// struct epoll_event is packed on x86_64 only; Swift reaches its fields and size
// through the inline accessors in cshim.h, so no layout is assumed here.
#if defined(__x86_64__)
_Static_assert(sizeof(struct epoll_event) == 12, "x86_64 packs struct epoll_event");
#endif

int cshim_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cshim_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = token;
    return epoll_ctl(epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int cshim_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms) {
    // As recv and send below: the system call without glibc's cancellation point.
    // epoll_pwait with no signal mask is epoll_wait (the mask size, the kernel's 8
    // bytes, is read only with a mask), and it exists on every architecture.
    long n = syscall(SYS_epoll_pwait, epfd, events, max, timeout_ms, NULL, (size_t)8);
    return n < 0 ? -errno : (int)n;
}

// recv, send and sendmsg go straight to the kernel. glibc's recv/send are thread-cancellation
// points: each call switches asynchronous cancellation on and off around the system
// call, about 60 instructions per call that a loop which never cancels threads pays on
// every message. syscall(2) is variadic, which Swift cannot call: a job for this shim.
ssize_t cshim_recv(int fd, void *buf, size_t len) {
    long n = syscall(SYS_recvfrom, fd, buf, len, 0, NULL, NULL);
    return n < 0 ? -errno : (ssize_t)n;
}

ssize_t cshim_send(int fd, const void *buf, size_t len) {
    long n = syscall(SYS_sendto, fd, buf, len, MSG_NOSIGNAL, NULL, 0);
    return n < 0 ? -errno : (ssize_t)n;
}

ssize_t cshim_writev(int fd, const struct iovec *iov, int count) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)count;
    long n = syscall(SYS_sendmsg, fd, &msg, MSG_NOSIGNAL);
    return n < 0 ? -errno : (ssize_t)n;
}

int cshim_accept_batch(int listen_fd, int *fds, int max) {
    int count = 0;
    while (count < max) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (count > 0 || errno == EAGAIN || errno == EWOULDBLOCK) break;
            return -errno;
        }
        fds[count++] = fd;
    }
    return count;
}

int cshim_accept4(int listen_fd) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cshim_connect(int fd, const struct sockaddr *addr, socklen_t len) {
    return connect(fd, addr, len) < 0 ? -errno : 0;
}

int cshim_stream_socket(int family) {
    // Protocol 0: the family's own stream protocol (TCP for IP); AF_UNIX has no other.
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

int cshim_socket_error(int fd) {
    int value = 0;
    socklen_t len = sizeof value;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &len) < 0) return -errno;
    return value;
}

int cshim_setsockopt_int(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno : 0;
}

int cshim_getsockopt_int(int fd, int level, int name, int *value) {
    socklen_t len = sizeof *value;
    return getsockopt(fd, level, name, value, &len) < 0 ? -errno : 0;
}

int cshim_peer_pid(int fd) {
    struct ucred credentials;
    socklen_t len = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &len) < 0) return -errno;
    return credentials.pid;
}

int cshim_inq(int fd) {
    int value = 0;
    return ioctl(fd, SIOCINQ, &value) < 0 ? -errno : value;
}

int cshim_outq(int fd) {
    int value = 0;
    return ioctl(fd, SIOCOUTQ, &value) < 0 ? -errno : value;
}

int cshim_die_with_parent(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal) < 0 ? -errno : 0;
}

int cshim_fix_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

size_t cshim_malloc_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

int cshim_thread_id(void) {
    static __thread int cached = 0;
    if (cached == 0) cached = (int)syscall(SYS_gettid);
    return cached;
}

int cshim_signalfd(const sigset_t *set) {
    int fd = signalfd(-1, set, SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cshim_signalfd_next(int fd) {
    struct signalfd_siginfo info;
    ssize_t got = read(fd, &info, sizeof info);
    if (got < 0) return -errno;
    return got == (ssize_t)sizeof info ? (int)info.ssi_signo : -EIO;
}
