#ifndef _GNU_SOURCE
#error "CShim needs _GNU_SOURCE (accept4, SOCK_NONBLOCK); Package.swift defines it"
#endif

#include "cshim.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <malloc.h>
#include <sys/prctl.h>
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
    int n = epoll_wait(epfd, events, max, timeout_ms);
    return n < 0 ? -errno : n;
}

ssize_t cshim_recv(int fd, void *buf, size_t len) {
    ssize_t n = recv(fd, buf, len, 0);
    return n < 0 ? -errno : n;
}

ssize_t cshim_send(int fd, const void *buf, size_t len) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
}

ssize_t cshim_writev(int fd, const struct iovec *iov, int count) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)count;
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
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
