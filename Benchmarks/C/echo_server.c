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

static void ready(int fd)
{
    if (connections[fd].unsent) send_unsent(fd);
    else echo(fd);
}

static int is_open(int fd) { return connections[fd].open; }

int main(int argc, char **argv)
{
    static const struct server server = {
        "echo_server", sizeof *connections, opened, is_open, ready, close_connection};
    return run_server(&server, argc, argv, (void **)&connections);
}
