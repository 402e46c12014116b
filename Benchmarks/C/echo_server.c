/* The smallest fair echo server, as the floor for `conduit multiconn-server` in
 * Benchmarks/compare.sh: one thread, epoll (level-triggered), non-blocking sockets,
 * TCP_NODELAY; each read is sent straight back from one shared buffer.
 *
 * usage: echo_server [PORT]   (0 = any free port); prints "Listening on 127.0.0.1:PORT";
 * stops on SIGTERM or SIGINT, closing every connection. */
#include "server.h"

/* What a connection keeps only while the socket would not take a whole echo: the
 * unsent tail. Reading stops meanwhile, so a peer that does not read cannot make the
 * server buffer without bound. */
struct connection {
    char *unsent;
    size_t length, sent;
    int open;
};

static struct connection *connections; /* indexed by descriptor */
static int epoll_fd;

static void opened(int fd) { connections[fd] = (struct connection){.open = 1}; }

static void close_connection(int fd)
{
    free(connections[fd].unsent);
    connections[fd] = (struct connection){0};
    close(fd); /* also leaves the epoll set */
}

/* Sends what is left of the tail; once it is all out, reads again. A writable event for
 * a connection with nothing unsent (a stale event for a reused descriptor) only re-arms
 * reading. */
static void send_unsent(int fd)
{
    struct connection *c = &connections[fd];
    while (c->sent < c->length) {
        ssize_t n = send(fd, c->unsent + c->sent, c->length - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            close_connection(fd);
            return;
        }
        c->sent += (size_t)n;
    }
    free(c->unsent);
    c->unsent = NULL;
    c->length = c->sent = 0;
    watch(epoll_fd, EPOLL_CTL_MOD, fd, EPOLLIN);
}

/* One read, echoed at once. What the socket does not take is kept and sent on EPOLLOUT. */
static void echo(int fd)
{
    static char buffer[64 * 1024];
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        close_connection(fd);
        return;
    }
    if (n < 0) return;
    ssize_t sent = send(fd, buffer, (size_t)n, MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EINTR) {
        close_connection(fd);
        return;
    }
    if (sent < 0) sent = 0;
    if (sent == n) return;
    struct connection *c = &connections[fd];
    c->length = (size_t)(n - sent);
    c->sent = 0;
    c->unsent = malloc(c->length);
    if (!c->unsent) {
        close_connection(fd);
        return;
    }
    memcpy(c->unsent, buffer + sent, c->length);
    watch(epoll_fd, EPOLL_CTL_MOD, fd, EPOLLOUT);
}

int main(int argc, char **argv)
{
    int port = parse_port(argc, argv);
    size_t limit = descriptor_limit();
    connections = calloc(limit, sizeof *connections);
    int signals = stop_signals();
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (!connections || signals < 0 || epoll_fd < 0) {
        perror("echo_server: set-up");
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
            if (fd == listener) {
                accept_some(epoll_fd, listener, limit, opened);
            } else if (fd == signals) {
                running = 0;
            } else if (connections[fd].open) {
                /* Errors and hang-ups surface as a failed or empty read (or send). */
                if (connections[fd].unsent) send_unsent(fd);
                else echo(fd);
            }
        }
    }
    for (size_t fd = 0; fd < limit; fd++)
        if (connections[fd].open) close_connection((int)fd);
    close(listener);
    close(epoll_fd);
    close(signals);
    free(connections);
    return 0;
}
