// TLS sessions whose bytes the event loop moves (see cshim_tls.h). One BIO of our own
// sits under each SSL: its read side reads the loop's input view in place, then what
// was kept of an earlier view; its write side appends to an output buffer the loop
// sends from at once (one per thread, shared by its sessions). No OpenSSL memory BIO,
// so no copy on the way in.
#include "cshim_tls.h"

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cshim_tls_context {
    SSL_CTX *ssl;
    // The owner's reference and one per session: a context replaced by a reload lives
    // until its last session ends.
    _Atomic long references;
    int is_server;
    // A client's last session, offered again for resumption; any loop may set it.
    pthread_mutex_t last_lock;
    SSL_SESSION *last;
    // ALPN, wire format, for a server's choice.
    uint8_t *alpn;
    size_t alpn_len;
};

/// A growable run of bytes; `start` is where the unread part begins.
struct byte_run {
    uint8_t *bytes;
    size_t start, end, capacity;
    // Borrowed from its thread's shared output (see below), not its own.
    struct shared_output *lender;
};

struct cshim_tls {
    SSL *ssl;
    cshim_tls_context *ctx;
    // The input view handed in by the loop, read in place.
    const uint8_t *view;
    size_t view_len;
    // Input OpenSSL did not read from an earlier view (a partial record).
    struct byte_run kept;
    // Ciphertext to send: the thread's shared output while it is free, else its own.
    struct byte_run out;
    int close_sent;
    // A protocol or certificate error ended the session: its session is not offered again.
    int failed;
    // What the last failure was, kept for cshim_tls_error_text.
    char error[256];
};

// --- the thread's shared output ---------------------------------------------------
// Ciphertext sits in a session's output only from the call that makes it to the send
// right after, which hands what the kernel does not take to the connection's queue. So
// one buffer per thread serves every session of that loop, and a thousand idle sessions
// hold none. 80 KiB: the 64 KiB of plaintext a loop gathers, as records.

struct shared_output {
    int in_use;
    // Its thread ended while a session held it: the session frees it when done.
    int orphaned;
    uint8_t bytes[80 * 1024];
};

static pthread_key_t shared_output_key;
static pthread_once_t shared_output_once = PTHREAD_ONCE_INIT;

static void shared_output_thread_ended(void *value) {
    struct shared_output *shared = value;
    if (shared->in_use) shared->orphaned = 1;
    else free(shared);
}

static void shared_output_make_key(void) { pthread_key_create(&shared_output_key, shared_output_thread_ended); }

static struct shared_output *shared_output_borrow(size_t len) {
    pthread_once(&shared_output_once, shared_output_make_key);
    struct shared_output *shared = pthread_getspecific(shared_output_key);
    if (!shared) {
        shared = malloc(sizeof *shared);
        if (!shared) return NULL;
        shared->in_use = 0;
        shared->orphaned = 0;
        if (pthread_setspecific(shared_output_key, shared) != 0) {
            free(shared);
            return NULL;
        }
    }
    if (shared->in_use || len > sizeof shared->bytes) return NULL;
    shared->in_use = 1;
    return shared;
}

static void shared_output_give_back(struct shared_output *shared) {
    shared->in_use = 0;
    if (shared->orphaned) free(shared);
}

// --- byte runs --------------------------------------------------------------------

static int run_append(struct byte_run *run, const void *bytes, size_t len) {
    if (run->start == run->end) run->start = run->end = 0;
    if (run->capacity - run->end < len) {
        size_t used = run->end - run->start;
        if (run->start > 0) {
            memmove(run->bytes, run->bytes + run->start, used);
            run->start = 0;
            run->end = used;
        }
        if (run->capacity - run->end < len) {
            size_t capacity = run->capacity ? run->capacity : 4096;
            while (capacity - used < len) capacity *= 2;
            uint8_t *grown = realloc(run->bytes, capacity);
            if (!grown) return 0;
            run->bytes = grown;
            run->capacity = capacity;
        }
    }
    memcpy(run->bytes + run->end, bytes, len);
    run->end += len;
    return 1;
}

// An idle session holds no buffer: a partial record or ciphertext waits here only
// until the next read or the send that follows, so storage is given up once empty.
static void run_release_if_empty(struct byte_run *run) {
    if (run->start != run->end || run->bytes == NULL) return;
    if (!run->lender) free(run->bytes);
    else shared_output_give_back(run->lender);
    run->bytes = NULL;
    run->lender = NULL;
    run->capacity = 0;
    run->start = run->end = 0;
}

// Output goes into the thread's shared buffer when it is free and large enough; a
// session outgrowing it, or finding it in use, moves to storage of its own.
static int out_append(struct byte_run *run, const void *bytes, size_t len) {
    if (run->bytes == NULL) {
        struct shared_output *shared = shared_output_borrow(len);
        if (shared) {
            run->bytes = shared->bytes;
            run->capacity = sizeof shared->bytes;
            run->lender = shared;
        }
    } else if (run->lender && run->capacity - run->end < len) {
        size_t used = run->end - run->start;
        size_t capacity = run->capacity;
        while (capacity - used < len) capacity *= 2;
        uint8_t *own = malloc(capacity);
        if (!own) return 0;
        memcpy(own, run->bytes + run->start, used);
        shared_output_give_back(run->lender);
        run->lender = NULL;
        run->bytes = own;
        run->capacity = capacity;
        run->start = 0;
        run->end = used;
    }
    return run_append(run, bytes, len);
}

// --- the BIO --------------------------------------------------------------------

static BIO_METHOD *loop_bio_method;
static pthread_once_t loop_bio_once = PTHREAD_ONCE_INIT;

static int loop_bio_write(BIO *bio, const char *bytes, int len) {
    cshim_tls *t = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (len <= 0) return 0;
    return out_append(&t->out, bytes, (size_t)len) ? len : -1;
}

static int loop_bio_read(BIO *bio, char *into, int cap) {
    cshim_tls *t = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (cap <= 0) return 0;
    size_t wanted = (size_t)cap, given = 0;
    size_t kept = t->kept.end - t->kept.start;
    if (kept > 0) {
        given = kept < wanted ? kept : wanted;
        memcpy(into, t->kept.bytes + t->kept.start, given);
        t->kept.start += given;
        run_release_if_empty(&t->kept);
    }
    if (given < wanted && t->view_len > 0) {
        size_t more = wanted - given < t->view_len ? wanted - given : t->view_len;
        memcpy(into + given, t->view, more);
        t->view += more;
        t->view_len -= more;
        given += more;
    }
    if (given == 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    return (int)given;
}

static long loop_bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
    (void)num;
    (void)ptr;
    cshim_tls *t = BIO_get_data(bio);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return t ? (long)(t->kept.end - t->kept.start + t->view_len) : 0;
    case BIO_CTRL_WPENDING:
        return t ? (long)(t->out.end - t->out.start) : 0;
    default:
        return 0;
    }
}

static int loop_bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static void make_loop_bio_method(void) {
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "conduit loop");
    if (!m) return;
    BIO_meth_set_write(m, loop_bio_write);
    BIO_meth_set_read(m, loop_bio_read);
    BIO_meth_set_ctrl(m, loop_bio_ctrl);
    BIO_meth_set_create(m, loop_bio_create);
    loop_bio_method = m;
}

// --- errors ----------------------------------------------------------------------

static void error_queue_text(char *buf, size_t cap) {
    unsigned long code = ERR_get_error();
    if (code == 0) {
        snprintf(buf, cap, "unknown TLS error");
    } else {
        const char *reason = ERR_reason_error_string(code);
        if (reason) snprintf(buf, cap, "%s", reason);
        else ERR_error_string_n(code, buf, cap);
    }
    ERR_clear_error();
}

void cshim_tls_last_error(char *buf, size_t cap) { error_queue_text(buf, cap); }

/// Records why `t` failed: the certificate check's verdict when it refused the peer,
/// else OpenSSL's oldest queued reason.
static int session_failed(cshim_tls *t) {
    t->failed = 1;
    long verify = SSL_get_verify_result(t->ssl);
    if (verify != X509_V_OK) {
        ERR_clear_error();
        snprintf(t->error, sizeof t->error, "certificate verify failed: %s",
                 X509_verify_cert_error_string(verify));
    } else {
        error_queue_text(t->error, sizeof t->error);
    }
    return CSHIM_TLS_FAILED;
}

// --- contexts ---------------------------------------------------------------------

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                       const unsigned char *offered, unsigned int offered_len, void *arg) {
    (void)ssl;
    cshim_tls_context *ctx = arg;
    unsigned char *chosen = NULL;
    if (SSL_select_next_proto(&chosen, out_len, ctx->alpn, (unsigned)ctx->alpn_len, offered, offered_len)
        != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

static int keep_client_session(SSL *ssl, SSL_SESSION *session) {
    cshim_tls_context *ctx = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), 0);
    if (!ctx) return 0;
    pthread_mutex_lock(&ctx->last_lock);
    SSL_SESSION *old = ctx->last;
    ctx->last = session;
    pthread_mutex_unlock(&ctx->last_lock);
    if (old) SSL_SESSION_free(old);
    return 1;  // we keep the reference
}

cshim_tls_context *cshim_tls_context_new(int is_server) {
    pthread_once(&loop_bio_once, make_loop_bio_method);
    if (!loop_bio_method) return NULL;
    cshim_tls_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->ssl = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
    if (!ctx->ssl) {
        free(ctx);
        return NULL;
    }
    ctx->is_server = is_server;
    atomic_init(&ctx->references, 1);
    pthread_mutex_init(&ctx->last_lock, NULL);
    SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
    // Renegotiation lets a peer make us redo the handshake's work at will; TLS 1.3 has
    // none, and nothing here needs it for 1.2.
    SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION);
    // Writes may be split by the kernel and resumed from another address (the gather
    // buffer or a connection's queue): OpenSSL must not insist on the same pointer.
    SSL_CTX_set_mode(ctx->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                                   | SSL_MODE_RELEASE_BUFFERS);
    // A server presents its chain as configured (leaf, then intermediates): building one
    // from the trust store would cost a search on every full handshake, and that store
    // holds the CAs of clients, not the server's issuers.
    if (is_server) SSL_CTX_set_mode(ctx->ssl, SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_ex_data(ctx->ssl, 0, ctx);
    SSL_CTX_set_verify(ctx->ssl, is_server ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    return ctx;
}

void cshim_tls_context_free(cshim_tls_context *ctx) {
    if (!ctx || atomic_fetch_sub(&ctx->references, 1) != 1) return;
    SSL_CTX_set_ex_data(ctx->ssl, 0, NULL);
    SSL_CTX_free(ctx->ssl);
    if (ctx->last) SSL_SESSION_free(ctx->last);
    pthread_mutex_destroy(&ctx->last_lock);
    free(ctx->alpn);
    free(ctx);
}

int cshim_tls_context_use_identity(cshim_tls_context *ctx, const char *chain_pem, size_t chain_len,
                                   const char *key_pem, size_t key_len) {
    BIO *chain = BIO_new_mem_buf(chain_pem, (int)chain_len);
    BIO *key = BIO_new_mem_buf(key_pem, (int)key_len);
    int ok = chain && key;
    X509 *leaf = ok ? PEM_read_bio_X509(chain, NULL, NULL, NULL) : NULL;
    ok = ok && leaf && SSL_CTX_use_certificate(ctx->ssl, leaf) == 1;
    if (ok) {
        SSL_CTX_clear_chain_certs(ctx->ssl);
        X509 *next;
        while (ok && (next = PEM_read_bio_X509(chain, NULL, NULL, NULL)) != NULL)
            ok = SSL_CTX_add0_chain_cert(ctx->ssl, next) == 1;
        // The end of the PEM stream leaves a "no start line" on the queue: not an error.
        ERR_clear_error();
    }
    EVP_PKEY *pkey = ok ? PEM_read_bio_PrivateKey(key, NULL, NULL, NULL) : NULL;
    ok = ok && pkey && SSL_CTX_use_PrivateKey(ctx->ssl, pkey) == 1 && SSL_CTX_check_private_key(ctx->ssl) == 1;
    X509_free(leaf);
    EVP_PKEY_free(pkey);
    BIO_free(chain);
    BIO_free(key);
    return ok ? 0 : CSHIM_TLS_FAILED;
}

int cshim_tls_context_use_self_signed(cshim_tls_context *ctx, char *pem_out, size_t cap) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    int ok = key && cert;
    X509_NAME *name = ok ? X509_get_subject_name(cert) : NULL;
    ok = ok && X509_set_version(cert, 2) && ASN1_INTEGER_set(X509_get_serialNumber(cert), 1)
         && X509_gmtime_adj(X509_getm_notBefore(cert), -60) && X509_gmtime_adj(X509_getm_notAfter(cert), 86400)
         && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0)
         && X509_set_issuer_name(cert, name) && X509_set_pubkey(cert, key);
    if (ok) {
        X509V3_CTX v3;
        X509V3_set_ctx_nodb(&v3);
        X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
        X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
        ok = san && X509_add_ext(cert, san, -1);
        X509_EXTENSION_free(san);
    }
    ok = ok && X509_sign(cert, key, EVP_sha256()) > 0 && SSL_CTX_use_certificate(ctx->ssl, cert) == 1
         && SSL_CTX_use_PrivateKey(ctx->ssl, key) == 1;
    if (ok && pem_out && cap > 0) {
        BIO *out = BIO_new(BIO_s_mem());
        ok = out && PEM_write_bio_X509(out, cert);
        char *text = NULL;
        long len = ok ? BIO_get_mem_data(out, &text) : 0;
        ok = ok && len > 0 && (size_t)len < cap;
        if (ok) {
            memcpy(pem_out, text, (size_t)len);
            pem_out[len] = 0;
        }
        BIO_free(out);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok ? 0 : CSHIM_TLS_FAILED;
}

int cshim_tls_context_trust_pem(cshim_tls_context *ctx, const char *pem, size_t len) {
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return CSHIM_TLS_FAILED;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx->ssl);
    int added = 0, ok = 1;
    X509 *cert;
    while (ok && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        ok = X509_STORE_add_cert(store, cert) == 1;
        added += ok;
        X509_free(cert);
    }
    BIO_free(bio);
    if (added == 0 || !ok) {
        if (ok) ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
        return CSHIM_TLS_FAILED;
    }
    ERR_clear_error();
    return 0;
}

int cshim_tls_context_trust_system(cshim_tls_context *ctx) {
    return SSL_CTX_set_default_verify_paths(ctx->ssl) == 1 ? 0 : CSHIM_TLS_FAILED;
}

void cshim_tls_context_set_verify(cshim_tls_context *ctx, int mode) {
    int flags = SSL_VERIFY_NONE;
    if (mode == CSHIM_TLS_VERIFY_PEER) flags = SSL_VERIFY_PEER;
    if (mode == CSHIM_TLS_VERIFY_REQUIRE) flags = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx->ssl, flags, NULL);
}

int cshim_tls_context_set_min_version(cshim_tls_context *ctx, int version) {
    int v = version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    return SSL_CTX_set_min_proto_version(ctx->ssl, v) == 1 ? 0 : CSHIM_TLS_FAILED;
}

int cshim_tls_context_set_alpn(cshim_tls_context *ctx, const uint8_t *wire, size_t len) {
    if (ctx->is_server) {
        uint8_t *copy = malloc(len);
        if (!copy) return CSHIM_TLS_FAILED;
        memcpy(copy, wire, len);
        free(ctx->alpn);
        ctx->alpn = copy;
        ctx->alpn_len = len;
        SSL_CTX_set_alpn_select_cb(ctx->ssl, select_alpn, ctx);
        return 0;
    }
    // The one OpenSSL call that returns 0 on success.
    return SSL_CTX_set_alpn_protos(ctx->ssl, wire, (unsigned)len) == 0 ? 0 : CSHIM_TLS_FAILED;
}

void cshim_tls_context_enable_client_resumption(cshim_tls_context *ctx) {
    SSL_CTX_set_session_cache_mode(ctx->ssl, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx->ssl, keep_client_session);
}

// --- sessions ----------------------------------------------------------------------

cshim_tls *cshim_tls_new(cshim_tls_context *ctx, const char *server_name, int resume) {
    cshim_tls *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ssl = SSL_new(ctx->ssl);
    BIO *bio = t->ssl ? BIO_new(loop_bio_method) : NULL;
    if (!bio) {
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    BIO_set_data(bio, t);
    // One BIO both ways: given as both, SSL_set_bio takes the one reference we hold
    // (an extra one leaked a BIO per session; the fuzz target's LeakSanitizer saw it).
    SSL_set_bio(t->ssl, bio, bio);
    t->ctx = ctx;
    atomic_fetch_add(&ctx->references, 1);
    if (ctx->is_server) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        if (server_name && *server_name) {
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(server_name);
            if (ip) {
                // An address is checked against the certificate's IP entries, and not
                // sent as SNI (RFC 6066 allows host names only).
                ASN1_OCTET_STRING_free(ip);
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), server_name);
            } else {
                SSL_set_tlsext_host_name(t->ssl, server_name);
                SSL_set1_host(t->ssl, server_name);
            }
        }
        if (resume) {
            pthread_mutex_lock(&ctx->last_lock);
            if (ctx->last) SSL_set_session(t->ssl, ctx->last);
            pthread_mutex_unlock(&ctx->last_lock);
        }
    }
    return t;
}

void cshim_tls_free(cshim_tls *t) {
    if (!t) return;
    // OpenSSL takes a session freed without close_notify for a cut connection and
    // stops offering it; a close without it is the application's choice here (a load
    // client's, say), and only a failed session is not worth resuming.
    if (!t->failed && SSL_is_init_finished(t->ssl)) SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(t->ssl);
    cshim_tls_context_free(t->ctx);
    free(t->kept.bytes);
    t->out.start = t->out.end;
    run_release_if_empty(&t->out);
    free(t);
}

void cshim_tls_begin_input(cshim_tls *t, const void *bytes, size_t len) {
    t->view = bytes;
    t->view_len = len;
}

void cshim_tls_end_input(cshim_tls *t) {
    if (t->view_len > 0) run_append(&t->kept, t->view, t->view_len);
    t->view = NULL;
    t->view_len = 0;
}

int cshim_tls_handshake(cshim_tls *t) {
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) return 1;
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return CSHIM_TLS_WANT_MORE;
    default:
        return session_failed(t);
    }
}

long cshim_tls_read(cshim_tls *t, void *out, size_t cap) {
    size_t got = 0;
    int r = SSL_read_ex(t->ssl, out, cap, &got);
    if (r == 1) return (long)got;
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return CSHIM_TLS_WANT_MORE;
    case SSL_ERROR_ZERO_RETURN:
        return CSHIM_TLS_CLOSED;
    default:
        return session_failed(t);
    }
}

long cshim_tls_write(cshim_tls *t, const void *bytes, size_t len) {
    size_t done = 0;
    while (done < len) {
        size_t wrote = 0;
        // The BIO takes everything (it grows), so a write never waits for room.
        if (SSL_write_ex(t->ssl, (const uint8_t *)bytes + done, len - done, &wrote) != 1) return session_failed(t);
        done += wrote;
    }
    return (long)len;
}

void cshim_tls_close(cshim_tls *t) {
    if (t->close_sent) return;
    t->close_sent = 1;
    if (SSL_is_init_finished(t->ssl)) SSL_shutdown(t->ssl);
    ERR_clear_error();
}

const uint8_t *cshim_tls_output(const cshim_tls *t, size_t *len) {
    *len = t->out.end - t->out.start;
    return t->out.bytes + t->out.start;
}

void cshim_tls_output_taken(cshim_tls *t, size_t count) {
    size_t pending = t->out.end - t->out.start;
    t->out.start += count < pending ? count : pending;
    run_release_if_empty(&t->out);
}

size_t cshim_tls_buffered(const cshim_tls *t) {
    // The shared output is the loop's, like its gather buffer, not the connection's.
    return t->kept.capacity + (t->out.lender ? 0 : t->out.capacity);
}

void cshim_tls_error_text(const cshim_tls *t, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", t->error[0] ? t->error : "unknown TLS error");
}

int cshim_tls_resumed(const cshim_tls *t) { return SSL_session_reused(t->ssl); }

const char *cshim_tls_version(const cshim_tls *t) { return SSL_get_version(t->ssl); }

const char *cshim_tls_cipher(const cshim_tls *t) { return SSL_get_cipher_name(t->ssl); }

const uint8_t *cshim_tls_alpn(const cshim_tls *t, unsigned *len) {
    const unsigned char *proto = NULL;
    SSL_get0_alpn_selected(t->ssl, &proto, len);
    return proto;
}

int cshim_ktls_available(void) {
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r");
    if (!f) return 0;
    char line[256];
    int found = 0;
    if (fgets(line, sizeof line, f)) {
        for (char *word = strtok(line, " \n"); word; word = strtok(NULL, " \n"))
            if (strcmp(word, "tls") == 0) found = 1;
    }
    fclose(f);
    return found;
}
