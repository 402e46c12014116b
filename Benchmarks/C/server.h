/* What the two C comparison servers share: the port argument, a non-blocking loopback
 * listener that announces its port, accepting with TCP_NODELAY, and SIGTERM/SIGINT as a
 * signalfd in the epoll set, so the loop stops between events without a race against a
 * signal handler. Linux only (epoll, signalfd, accept4), like Conduit's loop. */
#ifndef CONDUIT_C_SERVER_H
#define CONDUIT_C_SERVER_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Events taken from one epoll_wait; the rest wait for the next call (level-triggered). */
#define MAX_EVENTS 256
/* Connections accepted per wake-up of the listener, so a connect storm cannot starve
 * the connections already open. */
#define ACCEPTS_PER_WAKE 64

/* The port from argv[1]: 0 (or nothing) lets the kernel pick one. */
static int parse_port(int argc, char **argv)
{
    if (argc < 2) return 0;
    char *end;
    long port = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || port < 0 || port > 65535) {
        fprintf(stderr, "usage: %s [PORT]   (0 = any free port)\n", argv[0]);
        exit(64);
    }
    return (int)port;
}

/* Listens on 127.0.0.1:port and prints "Listening on 127.0.0.1:PORT" as the first
 * stdout line, flushed: the harness reads it through a pipe. */
static int listen_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&address, sizeof address) < 0 || listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) < 0) {
        perror("listen on 127.0.0.1");
        exit(1);
    }
    printf("Listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
    fflush(stdout);
    return fd;
}

/* SIGTERM and SIGINT, blocked and readable from this descriptor instead. */
static int stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* The size of a table indexed by descriptor: descriptors are below the open-file limit. */
static size_t descriptor_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > (1 << 22))
        return 1 << 16;
    return (size_t)limit.rlim_cur;
}

/* Adds fd to the epoll set (or changes its interest) for `events`. */
static int watch(int epoll, int op, int fd, uint32_t events)
{
    struct epoll_event event = {.events = events, .data.fd = fd};
    return epoll_ctl(epoll, op, fd, &event);
}

/* Accepts up to ACCEPTS_PER_WAKE connections, non-blocking with TCP_NODELAY, each
 * registered for reading; `opened(fd)` is told of each. A failed accept (EAGAIN, or
 * EMFILE at the file limit) ends this round: level-triggered epoll reports the rest. */
static void accept_some(int epoll, int listener, size_t limit, void (*opened)(int fd))
{
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        if ((size_t)fd >= limit || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
            watch(epoll, EPOLL_CTL_ADD, fd, EPOLLIN) < 0) {
            close(fd);
            continue;
        }
        opened(fd);
    }
}

/* What a server plugs into `run_server`: its connection table's entry size and what it does
   when a connection opens, has an event, or must close. */
struct server {
    const char *name;
    size_t entry_size;
    void (*opened)(int fd);
    int (*is_open)(int fd);
    void (*ready)(int fd);
    void (*close_connection)(int fd);
};

/* The descriptor of the one epoll instance (set by `run_server`). */
static int epoll_fd;

/* The whole life of a server: the table of connections (one entry per possible
   descriptor, in *table), the listener, then epoll until SIGINT/SIGTERM, then closing
   everything. Returns the exit status. */
static inline int run_server(const struct server *server, int argc, char **argv, void **table)
{
    int port = parse_port(argc, argv);
    size_t limit = descriptor_limit();
    *table = calloc(limit, server->entry_size);
    int signals = stop_signals();
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (!*table || signals < 0 || epoll_fd < 0) {
        fprintf(stderr, "%s: set-up: %s\n", server->name, strerror(errno));
        return 1;
    }
    int listener = listen_loopback(port);
    watch(epoll_fd, EPOLL_CTL_ADD, listener, EPOLLIN);
    watch(epoll_fd, EPOLL_CTL_ADD, signals, EPOLLIN);

    struct epoll_event events[MAX_EVENTS];
    for (int running = 1; running;) {
        int count = epoll_wait(epoll_fd, events, MAX_EVENTS, -1);
        if (count < 0 && errno != EINTR) {
            perror("epoll_wait");
            break;
        }
        for (int i = 0; i < count; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) accept_some(epoll_fd, listener, limit, server->opened);
            else if (fd == signals) running = 0;
            /* Errors and hang-ups surface as a failed or empty read (or send). */
            else if (server->is_open(fd)) server->ready(fd);
        }
    }
    for (size_t fd = 0; fd < limit; fd++)
        if (server->is_open((int)fd)) server->close_connection((int)fd);
    close(listener);
    close(epoll_fd);
    close(signals);
    free(*table);
    return 0;
}

#endif
