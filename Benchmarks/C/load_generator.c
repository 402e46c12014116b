/* A minimal C load generator, so that a server comparison measures the servers and not
 * the generator: one thread, level-triggered epoll, non-blocking sockets with TCP_NODELAY,
 * DEPTH requests pipelined on each of N connections to a loopback address. Every answer is
 * checked as it arrives: byte for byte against the expected answer of its request, or, with
 * `--framing app`, split by the application protocol's own lengths (2-byte big-endian header
 * length, then the header's "content-length") and each answer's length checked against the
 * first answer to the same request (for servers whose bytes differ but must be consistent).
 *
 * usage: load_generator --target 127.0.0.1:PORT [--connections 100] [--depth 1]
 *                       [--duration 5] --request FILE [--answer FILE] [--request FILE ...]
 *                       [--framing app]
 *   Requests are sent in turn (request 0, 1, 2, 0, … on each connection), so an answer out
 *   of step shows as wrong. Without --answer each request's answer is itself (echo).
 *   All connections are made first; the measured run starts when the last is up.
 *
 * Prints one JSON object on stdout: requests (answers checked within the run), seconds,
 * requests_per_second, errors, p50_us and p99_us (from the send of a request to its
 * answer, timed once per wake-up), cpu_seconds and busy (this process's CPU time over the
 * run's wall time: above 0.9 the run measures this generator). A one-line summary goes to
 * stderr. Exits 1 when it cannot connect or when any answer was wrong or lost. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_VARIANTS 16
#define MAX_EVENTS 256
/* Log-linear latency buckets: 32 per power of two (3 % resolution), up to 2^40 ns. */
#define SUB_BUCKETS 32
#define BUCKETS (SUB_BUCKETS * 40)

struct bytes {
    char *data;
    size_t length;
};

struct variant {
    struct bytes request, answer; /* answer.length 0 with --framing app until learned */
};

struct connection {
    int fd;
    int writing;                  /* waiting for EPOLLOUT with output unsent */
    uint64_t sent, answered;      /* requests sent and answers taken, in order */
    char *in, *out;               /* input not yet taken; output not yet sent */
    size_t in_length, out_length, out_sent;
    uint64_t *sent_at;            /* send time of each request in flight, ring of depth */
};

static struct variant variants[MAX_VARIANTS];
static int variant_count, answer_count, framing_app;
static uint64_t histogram[BUCKETS];
static uint64_t answers, errors, wrong_answers;
static size_t depth = 1;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static double cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

static void fail(const char *what)
{
    fprintf(stderr, "load_generator: %s\n", what);
    exit(1);
}

/* A whole decimal number in [low, high] from an option's text; exits naming the option
 * otherwise (strtoul alone took "1e3" as 1 and "2s" as 2: a typo became a wrong run). */
static unsigned long whole_number(const char *option, const char *text, unsigned long low, unsigned long high)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (*text == '\0' || *text == '-' || *end != '\0' || errno || value < low || value > high) {
        fprintf(stderr, "load_generator: --%s takes a whole number from %lu to %lu, not '%s'\n", option, low, high, text);
        exit(64);
    }
    return value;
}

static struct bytes read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "load_generator: cannot read %s: %s\n", path, strerror(errno));
        exit(1);
    }
    struct bytes b = {malloc(1 << 20), 0};
    b.length = fread(b.data, 1, 1 << 20, file);
    fclose(file);
    if (b.length == 0 || b.length == 1 << 20) {
        fprintf(stderr, "load_generator: %s must hold 1 to 1,048,575 bytes\n", path);
        exit(1);
    }
    return b;
}

/* ---- latency ------------------------------------------------------------------------ */

static int bucket_of(uint64_t ns)
{
    if (ns < SUB_BUCKETS) return (int)ns;
    int exponent = 63 - __builtin_clzll(ns); /* >= 5 */
    int index = (exponent - 4) * SUB_BUCKETS + (int)((ns >> (exponent - 5)) & (SUB_BUCKETS - 1));
    return index < BUCKETS ? index : BUCKETS - 1;
}

static uint64_t bucket_floor(int index)
{
    if (index < SUB_BUCKETS) return (uint64_t)index;
    int exponent = index / SUB_BUCKETS + 4;
    return ((uint64_t)SUB_BUCKETS + (uint64_t)(index % SUB_BUCKETS)) << (exponent - 5);
}

static double percentile_us(double fraction)
{
    uint64_t want = (uint64_t)(fraction * (double)answers + 0.5), seen = 0;
    for (int i = 0; i < BUCKETS; i++)
        if ((seen += histogram[i]) >= want && seen > 0) return (double)bucket_floor(i) / 1000.0;
    return 0;
}

/* ---- one connection ------------------------------------------------------------------ */

/* The length of the application-protocol message at the front of `in`, or 0 while it is
 * incomplete; -1 for what is not a message with a numeric content-length. */
static long app_message_length(const char *in, size_t length)
{
    if (length < 2) return 0;
    size_t header = ((size_t)(unsigned char)in[0] << 8) | (unsigned char)in[1];
    if (header == 0) return -1;
    if (length < 2 + header) return 0;
    static const char key[] = "\"content-length\":";
    const char *found = memmem(in + 2, header, key, sizeof key - 1);
    if (!found) return -1;
    const char *p = found + sizeof key - 1, *end = in + 2 + header;
    while (p < end && *p == ' ') p++;
    if (p == end || *p < '0' || *p > '9') return -1;
    long content = 0;
    while (p < end && *p >= '0' && *p <= '9' && content < (1L << 30)) content = content * 10 + (*p++ - '0');
    return (long)(2 + header) + content;
}

static void append_request(struct connection *c, uint64_t now)
{
    const struct bytes *r = &variants[c->sent % (uint64_t)variant_count].request;
    memcpy(c->out + c->out_length, r->data, r->length);
    c->out_length += r->length;
    c->sent_at[c->sent % depth] = now;
    c->sent++;
}

static void close_connection(struct connection *c, int epoll)
{
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

/* Takes every whole answer at the front of the input; a new request follows each while
 * `sending`. Returns -1 (after saying why) for a wrong answer. */
static int take_answers(struct connection *c, uint64_t now, int sending)
{
    size_t at = 0;
    while (c->answered < c->sent) {
        struct variant *v = &variants[c->answered % (uint64_t)variant_count];
        size_t length = v->answer.length;
        if (framing_app) {
            long found = app_message_length(c->in + at, c->in_length - at);
            if (found == 0) break;
            if (found < 0 || (length && (size_t)found != length)) {
                if (++wrong_answers <= 3)
                    fprintf(stderr, "load_generator: answer %llu on a connection is %ld bytes long, where the first "
                            "answer to that request was %zu\n", (unsigned long long)c->answered, found, length);
                return -1;
            }
            v->answer.length = length = (size_t)found;
        } else {
            if (c->in_length - at < length) break;
            if (memcmp(c->in + at, v->answer.data, length) != 0) {
                if (++wrong_answers <= 3)
                    fprintf(stderr, "load_generator: answer %llu on a connection differs from the expected %zu bytes%s\n",
                            (unsigned long long)c->answered, length,
                            answer_count ? "" : " (no --answer given: each answer is expected to echo its request)");
                return -1;
            }
        }
        at += length;
        histogram[bucket_of(now - c->sent_at[c->answered % depth])]++;
        c->answered++;
        answers++;
        if (sending) append_request(c, now);
    }
    c->in_length -= at;
    if (at && c->in_length) memmove(c->in, c->in + at, c->in_length);
    return 0;
}

/* Sends what output there is; waits for EPOLLOUT when the socket is full. -1 when lost. */
static int flush_output(struct connection *c, int epoll)
{
    while (c->out_sent < c->out_length) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_length - c->out_sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) return -1;
        c->out_sent += (size_t)n;
    }
    int writing = c->out_sent < c->out_length;
    if (!writing) c->out_sent = c->out_length = 0;
    if (writing != c->writing) {
        struct epoll_event event = {.events = EPOLLIN | (writing ? EPOLLOUT : 0), .data.ptr = c};
        epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
        c->writing = writing;
    }
    return 0;
}

/* ---- the run --------------------------------------------------------------------------- */

static struct sockaddr_in parse_target(const char *target)
{
    struct sockaddr_in address = {.sin_family = AF_INET};
    const char *colon = strrchr(target, ':');
    char host[64];
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || (size_t)(colon - target) >= sizeof host || *end != '\0' || port < 1 || port > 65535)
        fail("--target is 127.x.y.z:PORT");
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = '\0';
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    if (strchr(host, ':') || host[0] == '[')
        fail("--target takes an IPv4 loopback address (127.x.y.z:PORT); this tool does not speak IPv6");
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1)
        fail("--target takes a numeric IPv4 loopback address or localhost (127.x.y.z:PORT)");
    if ((ntohl(address.sin_addr.s_addr) >> 24) != 127)
        fail("--target must be a loopback address (127.0.0.0/8): this tool loads only this machine");
    address.sin_port = htons((uint16_t)port);
    return address;
}

/* Opens every connection and waits until each is up; exits on the first that fails. */
static void connect_all(struct connection *connections, size_t count, struct sockaddr_in address, int epoll)
{
    size_t pending = 0;
    for (size_t i = 0; i < count; i++) {
        struct connection *c = &connections[i];
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        struct epoll_event event = {.events = EPOLLOUT, .data.ptr = c};
        if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
            (connect(c->fd, (struct sockaddr *)&address, sizeof address) < 0 && errno != EINPROGRESS) ||
            epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event) < 0) {
            fprintf(stderr, "load_generator: connection %zu: %s\n", i + 1, strerror(errno));
            exit(1);
        }
        pending++;
    }
    struct epoll_event events[MAX_EVENTS];
    uint64_t give_up = now_ns() + 30000000000ull;
    while (pending > 0) {
        if (now_ns() > give_up) fail("connections still not up after 30 s");
        int n = epoll_wait(epoll, events, MAX_EVENTS, 1000);
        for (int i = 0; i < n; i++) {
            struct connection *c = events[i].data.ptr;
            int error = 0;
            socklen_t length = sizeof error;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error) {
                fprintf(stderr, "load_generator: connect to %s:%d: %s\n", inet_ntoa(address.sin_addr),
                        ntohs(address.sin_port), strerror(error));
                exit(1);
            }
            struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
            epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
            pending--;
        }
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: load_generator --target 127.0.0.1:PORT [--connections 100] [--depth 1] "
                    "[--duration 5] --request FILE [--answer FILE] ... [--framing app]\n");
    exit(64);
}

int main(int argc, char **argv)
{
    const char *target = NULL;
    size_t count = 100;
    double duration = 5;
    static const struct option options[] = {
        {"target", required_argument, 0, 't'},  {"connections", required_argument, 0, 'c'},
        {"depth", required_argument, 0, 'd'},   {"duration", required_argument, 0, 's'},
        {"request", required_argument, 0, 'r'}, {"answer", required_argument, 0, 'a'},
        {"framing", required_argument, 0, 'f'}, {0, 0, 0, 0}};
    for (int option; (option = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (option) {
        case 't': target = optarg; break;
        case 'c': count = whole_number("connections", optarg, 1, 1000000); break;
        case 'd': depth = whole_number("depth", optarg, 1, 4096); break;
        case 's': {
            char *end;
            duration = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || !(duration > 0) || duration > 86400) {
                fprintf(stderr, "load_generator: --duration takes seconds, a number above 0 (e.g. 5 or 0.5), not '%s'\n", optarg);
                exit(64);
            }
            break;
        }
        case 'r':
            if (variant_count == MAX_VARIANTS) fail("at most 16 requests");
            variants[variant_count++].request = read_file(optarg);
            break;
        case 'a':
            if (answer_count == MAX_VARIANTS) fail("at most 16 answers");
            variants[answer_count++].answer = read_file(optarg);
            break;
        case 'f':
            if (strcmp(optarg, "app") != 0) fail("--framing takes only `app`");
            framing_app = 1;
            break;
        default: usage();
        }
    }
    if (optind != argc) {
        fprintf(stderr, "load_generator: unexpected argument '%s' (every value follows its option)\n", argv[optind]);
        usage();
    }
    if (!target) {
        fprintf(stderr, "load_generator: say where to send the load: --target 127.0.0.1:PORT\n");
        usage();
    }
    if (variant_count == 0) {
        fprintf(stderr, "load_generator: give at least one --request FILE (the bytes of one request)\n");
        usage();
    }
    if (framing_app && answer_count) fail("--framing app learns the answers' lengths; give no --answer");
    if (!framing_app && answer_count == 0)
        for (int i = 0; i < variant_count; i++) variants[i].answer = variants[i].request; /* echo */
    else if (!framing_app && answer_count != variant_count) fail("give one --answer per --request, or none (echo)");

    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < count + 16) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    struct sockaddr_in address = parse_target(target);
    size_t largest_request = 0, largest_answer = framing_app ? 65536 : 0; /* --framing app: answers up to 64 KiB */
    for (int i = 0; i < variant_count; i++) {
        if (variants[i].request.length > largest_request) largest_request = variants[i].request.length;
        if (!framing_app && variants[i].answer.length > largest_answer) largest_answer = variants[i].answer.length;
    }
    size_t in_capacity = largest_answer * depth + 65536;
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct connection *connections = calloc(count, sizeof *connections);
    if (epoll < 0 || !connections) fail("out of memory");
    for (size_t i = 0; i < count; i++) {
        connections[i].in = malloc(in_capacity);
        connections[i].out = malloc(largest_request * depth);
        connections[i].sent_at = malloc(depth * sizeof(uint64_t));
        if (!connections[i].in || !connections[i].out || !connections[i].sent_at) fail("out of memory");
    }
    connect_all(connections, count, address, epoll);

    uint64_t start = now_ns(), end = start + (uint64_t)(duration * 1e9);
    double cpu_start = cpu_seconds();
    for (size_t i = 0; i < count; i++) {
        for (size_t k = 0; k < depth; k++) append_request(&connections[i], start);
        if (flush_output(&connections[i], epoll) < 0) fail("the server closed a connection at the start");
    }
    size_t open = count;
    uint64_t now = start;
    struct epoll_event events[MAX_EVENTS];
    while (open > 0 && now < end) {
        int timeout = (int)((end - now) / 1000000) + 1;
        int n = epoll_wait(epoll, events, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) fail("epoll_wait failed");
        now = now_ns();
        int sending = now < end;
        for (int i = 0; i < n; i++) {
            struct connection *c = events[i].data.ptr;
            if (c->fd < 0) continue;
            int lost = 0;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                ssize_t got = recv(c->fd, c->in + c->in_length, in_capacity - c->in_length, 0);
                if (got > 0) {
                    c->in_length += (size_t)got;
                    if (take_answers(c, now, sending) < 0) lost = 1;
                } else if (got == 0 || errno != EAGAIN) {
                    fprintf(stderr, "load_generator: the server closed a connection with %llu answers owed\n",
                            (unsigned long long)(c->sent - c->answered));
                    lost = 1;
                }
                if (!lost && c->in_length == in_capacity) {
                    fprintf(stderr, "load_generator: an answer does not fit in %zu bytes\n", in_capacity);
                    lost = 1;
                }
            }
            if (!lost && flush_output(c, epoll) < 0) lost = 1;
            if (lost) {
                errors++;
                close_connection(c, epoll);
                open--;
            }
        }
    }
    double seconds = (double)(now - start) / 1e9, cpu = cpu_seconds() - cpu_start;
    if (seconds < 0.001) seconds = 0.001; /* every connection failed at once */
    for (size_t i = 0; i < count; i++)
        if (connections[i].fd >= 0) close(connections[i].fd);

    printf("{\"connections\": %zu, \"depth\": %zu, \"requests\": %llu, \"seconds\": %.3f, "
           "\"requests_per_second\": %.0f, \"errors\": %llu, \"p50_us\": %.1f, \"p99_us\": %.1f, "
           "\"cpu_seconds\": %.3f, \"busy\": %.3f}\n",
           count, depth, (unsigned long long)answers, seconds, (double)answers / seconds,
           (unsigned long long)errors, percentile_us(0.5), percentile_us(0.99), cpu, cpu / seconds);
    if (wrong_answers > 3)
        fprintf(stderr, "load_generator: %llu wrong answers in all (each closed its connection)\n",
                (unsigned long long)wrong_answers);
    fprintf(stderr, "load_generator: %llu answers in %.2f s (%.0f/s) over %zu connections x %zu deep, "
            "%llu errors, p50 %.1f µs, p99 %.1f µs, own core %.0f %% busy\n",
            (unsigned long long)answers, seconds, (double)answers / seconds, count, depth,
            (unsigned long long)errors, percentile_us(0.5), percentile_us(0.99), 100 * cpu / seconds);
    return errors ? 1 : 0;
}
