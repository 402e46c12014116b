/* The smallest fair TLS echo server, as the floor for `conduit multiconn-server
 * --tls-cert ... --tls-key ...` in Benchmarks/compare_tls.sh: one thread, epoll
 * (level-triggered), non-blocking sockets, TCP_NODELAY, OpenSSL 3 straight on each
 * socket (SSL_set_fd, read-ahead on so a record costs one read); what each SSL_read
 * returns is written straight back. Session tickets (resumption) are OpenSSL's default.
 *
 * usage: tls_echo_server PORT CERT KEY   (PORT 0 = any free port); prints
 * "Listening on 127.0.0.1:PORT"; stops on SIGTERM or SIGINT. */
#include "server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

/* A connection's session, and the plaintext an SSL_write could not take yet (OpenSSL
 * wants the same bytes again when the socket has room); reading stops meanwhile. */
struct connection {
    SSL *ssl;
    char *unsent;
    size_t length;
};

static struct connection *connections; /* indexed by descriptor */
static SSL_CTX *context;

static void opened(int fd)
{
    SSL *ssl = SSL_new(context);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        close(fd);
        return;
    }
    SSL_set_accept_state(ssl);
    connections[fd] = (struct connection){.ssl = ssl};
}

static void close_connection(int fd)
{
    SSL_free(connections[fd].ssl);
    free(connections[fd].unsent);
    connections[fd] = (struct connection){0};
    ERR_clear_error();
    close(fd);
}

/* Writes `bytes`; 1 when all went, 0 when they wait for EPOLLOUT (kept), -1 on error. */
static int write_all(int fd, const char *bytes, size_t length)
{
    struct connection *c = &connections[fd];
    int n = SSL_write(c->ssl, bytes, (int)length);
    if (n > 0) return 1;
    if (SSL_get_error(c->ssl, n) != SSL_ERROR_WANT_WRITE) return -1;
    if (bytes != c->unsent) {
        c->unsent = malloc(length);
        if (!c->unsent) return -1;
        memcpy(c->unsent, bytes, length);
        c->length = length;
    }
    watch(epoll_fd, EPOLL_CTL_MOD, fd, EPOLLOUT);
    return 0;
}

/* Handshake, then every record there is, each echoed as it is read. */
static void readable(int fd)
{
    static char buffer[16 * 1024];
    struct connection *c = &connections[fd];
    if (!c->ssl) return;
    for (;;) {
        int n = SSL_read(c->ssl, buffer, sizeof buffer);
        if (n <= 0) {
            int error = SSL_get_error(c->ssl, n);
            if (error == SSL_ERROR_WANT_READ) return;
            close_connection(fd);
            return;
        }
        int written = write_all(fd, buffer, (size_t)n);
        if (written < 0) close_connection(fd);
        if (written <= 0) return;
    }
}

static void writable(int fd)
{
    struct connection *c = &connections[fd];
    if (!c->ssl || !c->unsent) {
        if (c->ssl) watch(epoll_fd, EPOLL_CTL_MOD, fd, EPOLLIN);
        return;
    }
    int written = write_all(fd, c->unsent, c->length);
    if (written < 0) {
        close_connection(fd);
        return;
    }
    if (written == 0) return;
    free(c->unsent);
    c->unsent = NULL;
    c->length = 0;
    watch(epoll_fd, EPOLL_CTL_MOD, fd, EPOLLIN);
    readable(fd);
}

static void ready(int fd)
{
    if (connections[fd].unsent) writable(fd);
    else readable(fd);
}

static int is_open(int fd) { return connections[fd].ssl != NULL; }

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT CERT KEY   (PORT 0 = any free port)\n", argv[0]);
        return 64;
    }
    context = SSL_CTX_new(TLS_server_method());
    if (!context || SSL_CTX_use_certificate_chain_file(context, argv[2]) != 1 ||
        SSL_CTX_use_PrivateKey_file(context, argv[3], SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_read_ahead(context, 1);
    SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
    static const struct server server = {
        "tls_echo_server", sizeof *connections, opened, is_open, ready, close_connection};
    /* run_server reads the port from argv[1]; the certificate and key follow it. */
    return run_server(&server, 2, argv, (void **)&connections);
}
