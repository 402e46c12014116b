/* A minimal C server for Conduit's application protocol (PROTOCOL.md), as the floor for
 * `conduit app-server` in Benchmarks/compare.sh. The same loop as echo_server.c (one
 * thread, level-triggered epoll, non-blocking, TCP_NODELAY); per message:
 *
 *   2-byte big-endian header length | JSON header | content-length bytes of content
 *
 * The JSON header is scanned once, in place, for `content-type` and `content-length`;
 * a `text/json` content once for `action` and `value`. No tree, no copies, no decoding of
 * escapes: string values are compared and written back as their raw JSON text. That is
 * exact for everything `conduit load` sends, and for any string without `\uXXXX` or `\/`
 * escapes (which Python's json.dumps would write differently); a non-string action or
 * value is written as its JSON text (`null`, where the tutorial writes `None`).
 *
 * Answers, byte for byte as the tutorial's json.dumps writes them:
 *   search VALUE  -> {"result": ANSWER} from the 3-entry table, or "No match for 'VALUE'."
 *   other action  -> {"result": "Error: invalid action 'ACTION'."}
 *   not text/json -> binary/custom-server-binary-type "First 10 bytes of request: ..."
 * Pipelined requests are answered in order, all answers of one read sent together.
 * Anything malformed (zero or oversized header length, a header that is not an object
 * with a numeric content-length, content that is not an object, an unterminated string)
 * closes the connection without an answer; Conduit's server answers an error first.
 * Well-formed input is assumed for speed, never for memory safety.
 *
 * usage: app_server [PORT]   (0 = any free port); prints "Listening on 127.0.0.1:PORT";
 * stops on SIGTERM or SIGINT, closing every connection. */
#include "server.h"

#include <stdint.h>

/* Conduit's default limits (MessageLimits), so that both accept the same messages. */
#define MAX_HEADER (16 * 1024)
#define MAX_CONTENT (16u << 20)
#define FIRST_BUFFER 4096

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BYTEORDER "little" /* Python's sys.byteorder, which the tutorial writes */
#else
#define BYTEORDER "big"
#endif

struct buffer {
    char *bytes;
    size_t length, capacity;
};

/* Unconsumed input (at most one incomplete message after each read) and unsent output.
 * While output is unsent, reading stops: a peer that does not read cannot make the
 * server buffer without bound. */
struct connection {
    struct buffer in, out;
    size_t sent;    /* of out */
    size_t awaited; /* size of the incomplete message at the front of in, once known */
    int writing;    /* waiting for EPOLLOUT, not reading */
    int open;
};

static struct connection *connections; /* indexed by descriptor */

static void opened(int fd) { connections[fd] = (struct connection){.open = 1}; }

static void close_connection(int fd)
{
    free(connections[fd].in.bytes);
    free(connections[fd].out.bytes);
    connections[fd] = (struct connection){0};
    close(fd); /* also leaves the epoll set */
}

/* Makes room for `more` bytes after the buffer's length; 0 on success. */
static int reserve(struct buffer *b, size_t more)
{
    if (b->capacity - b->length >= more) return 0;
    size_t capacity = b->capacity ? b->capacity : FIRST_BUFFER;
    while (capacity - b->length < more) capacity *= 2;
    char *bytes = realloc(b->bytes, capacity);
    if (!bytes) return -1;
    b->bytes = bytes;
    b->capacity = capacity;
    return 0;
}

/* ---- one pass over a JSON object ------------------------------------------------ */

/* A value found for a key: a string's raw text between its quotes (escapes kept), or
 * the raw text of a number, true, false or null. */
struct field {
    const char *text;
    size_t length;
    char kind; /* 0: absent (or an array/object), '"': string, 'v': other */
};

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int equals(struct field f, const char *s) { return f.length == strlen(s) && memcmp(f.text, s, f.length) == 0; }

/* Scans the object in text[0..length) once and fills found[k] with the value of keys[k]
 * among its top-level keys (the last occurrence wins, as in Python). Returns -1 for what
 * is not a balanced object; a key's value that is an array or object reads as absent. */
static int scan_object(const char *text, size_t length, const char *const keys[], int count, struct field found[])
{
    int depth = 0, want = -1; /* want: which key's value comes next, -1 for none of ours */
    for (int k = 0; k < count; k++) found[k].kind = 0;
    if (length == 0 || text[0] != '{') return -1;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (c == '"') {
            size_t start = ++i;
            while (i < length && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
            if (i >= length) return -1; /* unterminated */
            struct field s = {text + start, i - start, '"'};
            if (want >= 0) {
                found[want] = s;
                want = -1;
                continue;
            }
            size_t j = i + 1;
            while (j < length && is_space(text[j])) j++;
            if (depth == 1 && j < length && text[j] == ':') { /* a key of the object */
                for (int k = 0; k < count; k++)
                    if (equals(s, keys[k])) want = k;
                i = j;
            }
        } else if (c == '{' || c == '[') {
            depth++;
            want = -1;
        } else if (c == '}' || c == ']') {
            if (--depth < 0) return -1;
        } else if (want >= 0 && !is_space(c)) { /* a number, true, false or null */
            size_t start = i;
            while (i + 1 < length && !strchr(",}] \t\r\n", text[i + 1])) i++;
            found[want] = (struct field){text + start, i + 1 - start, 'v'};
            want = -1;
        }
    }
    return depth == 0 ? 0 : -1;
}

/* ---- answers ---------------------------------------------------------------------- */

struct piece {
    const char *text;
    size_t length;
};
#define PIECE(literal) ((struct piece){literal, sizeof literal - 1})

/* Appends one whole message to the output: proto header, the JSON header in the
 * tutorial's key order and spacing, and the content made of `pieces`. */
static int respond(struct connection *c, const char *type, const char *encoding, const struct piece *pieces, int count)
{
    size_t length = 0;
    for (int i = 0; i < count; i++) length += pieces[i].length;
    char header[256];
    int h = snprintf(header, sizeof header,
                     "{\"byteorder\": \"" BYTEORDER "\", \"content-type\": \"%s\", "
                     "\"content-encoding\": \"%s\", \"content-length\": %zu}",
                     type, encoding, length);
    if (reserve(&c->out, 2 + (size_t)h + length) < 0) return -1;
    char *out = c->out.bytes + c->out.length;
    out[0] = (char)(h >> 8);
    out[1] = (char)h;
    memcpy(out + 2, header, (size_t)h);
    out += 2 + h;
    for (int i = 0; i < count; i++) {
        memcpy(out, pieces[i].text, pieces[i].length);
        out += pieces[i].length;
    }
    c->out.length += 2 + (size_t)h + length;
    return 0;
}

/* The tutorial's search table, UTF-8. */
static const char *const table[][2] = {
    {"morpheus", "Follow the white rabbit. \xf0\x9f\x90\xb0"},
    {"ring", "In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d"},
    {"\xf0\x9f\x90\xb6", "\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90"},
};

static struct piece raw(struct field f) { return f.kind ? (struct piece){f.text, f.length} : PIECE("None"); }

/* Answers one message; -1 to close the connection. */
static int answer(struct connection *c, struct field type, const char *content, size_t length)
{
    if (!(type.kind == '"' && equals(type, "text/json"))) {
        struct piece binary[] = {PIECE("First 10 bytes of request: "), {content, length < 10 ? length : 10}};
        return respond(c, "binary/custom-server-binary-type", "binary", binary, 2);
    }
    static const char *const keys[] = {"action", "value"};
    struct field request[2];
    if (scan_object(content, length, keys, 2, request) < 0) return -1;
    struct piece result[5] = {PIECE("{\"result\": \"")};
    int n = 1;
    if (!(request[0].kind == '"' && equals(request[0], "search"))) {
        result[n++] = PIECE("Error: invalid action '");
        result[n++] = raw(request[0]);
        result[n++] = PIECE("'.");
    } else {
        const char *found = NULL;
        for (size_t i = 0; i < sizeof table / sizeof table[0] && request[1].kind == '"'; i++)
            if (equals(request[1], table[i][0])) found = table[i][1];
        if (found) {
            result[n++] = (struct piece){found, strlen(found)};
        } else {
            result[n++] = PIECE("No match for '");
            result[n++] = raw(request[1]);
            result[n++] = PIECE("'.");
        }
    }
    result[n++] = PIECE("\"}");
    return respond(c, "text/json", "utf-8", result, n);
}

/* Answers every complete message at the front of the input and drops them from it;
 * -1 to close. Remembers the size of an incomplete message once its header is in, so a
 * content arriving in many reads is not waited for by re-scanning the header each time. */
static int serve(struct connection *c)
{
    static const char *const keys[] = {"content-type", "content-length"};
    size_t offset = 0;
    while (c->in.length - offset >= 2) {
        size_t available = c->in.length - offset;
        if (c->awaited && available < c->awaited) break;
        const char *message = c->in.bytes + offset;
        size_t header_length = (size_t)(unsigned char)message[0] << 8 | (unsigned char)message[1];
        if (header_length == 0 || header_length > MAX_HEADER) return -1;
        if (available < 2 + header_length) break;
        struct field header[2];
        if (scan_object(message + 2, header_length, keys, 2, header) < 0 || header[1].kind != 'v') return -1;
        size_t content_length = 0;
        for (size_t i = 0; i < header[1].length; i++) {
            char digit = header[1].text[i];
            if (digit < '0' || digit > '9' || content_length > MAX_CONTENT) return -1;
            content_length = content_length * 10 + (size_t)(digit - '0');
        }
        if (content_length > MAX_CONTENT) return -1;
        size_t total = 2 + header_length + content_length;
        if (available < total) {
            c->awaited = total;
            break;
        }
        c->awaited = 0;
        if (answer(c, header[0], message + 2 + header_length, content_length) < 0) return -1;
        offset += total;
    }
    memmove(c->in.bytes, c->in.bytes + offset, c->in.length - offset);
    c->in.length -= offset;
    return 0;
}

/* Sends unsent output. What the socket does not take waits for EPOLLOUT, with reading
 * stopped; once it is all out, reading resumes. The interest changes only when it must:
 * an epoll_ctl per answer would be a system call the other servers do not make. */
static void flush(int fd)
{
    struct connection *c = &connections[fd];
    while (c->sent < c->out.length) {
        ssize_t n = send(fd, c->out.bytes + c->sent, c->out.length - c->sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (n < 0) {
            close_connection(fd);
            return;
        }
        c->sent += (size_t)n;
    }
    int waiting = c->sent < c->out.length;
    if (waiting != c->writing) watch(epoll_fd, EPOLL_CTL_MOD, fd, waiting ? EPOLLOUT : EPOLLIN);
    c->writing = waiting;
    if (!waiting) c->out.length = c->sent = 0;
}

/* One read into the input, every complete message answered, the answers sent. */
static void receive(int fd)
{
    struct connection *c = &connections[fd];
    /* Room for the whole awaited message if known (one read can finish it), else 4 KiB. */
    size_t wanted = c->awaited > c->in.length ? c->awaited - c->in.length : FIRST_BUFFER;
    if (reserve(&c->in, wanted < FIRST_BUFFER ? FIRST_BUFFER : wanted) < 0) {
        close_connection(fd);
        return;
    }
    ssize_t n = read(fd, c->in.bytes + c->in.length, c->in.capacity - c->in.length);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        close_connection(fd);
        return;
    }
    if (n < 0) return;
    c->in.length += (size_t)n;
    if (serve(c) < 0) {
        close_connection(fd);
        return;
    }
    if (c->out.length > 0) flush(fd);
}

static void ready(int fd)
{
    if (connections[fd].writing) flush(fd);
    else receive(fd);
}

static int is_open(int fd) { return connections[fd].open; }

int main(int argc, char **argv)
{
    static const struct server server = {
        "app_server", sizeof *connections, opened, is_open, ready, close_connection};
    return run_server(&server, argc, argv, (void **)&connections);
}
