/* A connection-churn client for measuring a server's cost per accepted connection:
 * `connect_churn PORT COUNT [SIZE]` opens COUNT connections to 127.0.0.1:PORT one after
 * another; on each it sends SIZE bytes (64 by default), reads them back, and closes.
 * Prints the connections made per second; exits 1 on the first failure. Loopback only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One connection's round trip; 0, or -1 with the failing step printed. */
static int one_connection(const struct sockaddr_in *address, const char *message, char *reply, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return perror("socket"), -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int result = -1;
    if (connect(fd, (const struct sockaddr *)address, sizeof *address) < 0) {
        perror("connect");
    } else if (send(fd, message, size, MSG_NOSIGNAL) != (ssize_t)size) {
        perror("send");
    } else {
        size_t got = 0;
        while (got < size) {
            ssize_t n = recv(fd, reply + got, size - got, 0);
            if (n <= 0) {
                fprintf(stderr, "recv: %s\n", n == 0 ? "end of stream before the echo" : strerror(errno));
                break;
            }
            got += (size_t)n;
        }
        result = got == size && memcmp(message, reply, size) == 0 ? 0 : -1;
    }
    close(fd);
    return result;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT COUNT [SIZE]\n", argv[0]);
        return 64;
    }
    int port = atoi(argv[1]);
    long count = atol(argv[2]);
    size_t size = argc > 3 ? (size_t)atol(argv[3]) : 64;
    if (port <= 0 || port > 65535 || count <= 0 || size == 0 || size > 65536) {
        fprintf(stderr, "%s: PORT 1-65535, COUNT > 0, SIZE 1-65536\n", argv[0]);
        return 64;
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char *message = malloc(size), *reply = malloc(size);
    memset(message, 'x', size);
    double start = seconds_now();
    for (long i = 0; i < count; i++) {
        if (one_connection(&address, message, reply, size) < 0) {
            fprintf(stderr, "connection %ld of %ld failed\n", i + 1, count);
            return 1;
        }
    }
    printf("%.0f connections/s\n", (double)count / (seconds_now() - start));
    free(message);
    free(reply);
    return 0;
}
