// TLS over OpenSSL 3, driven by the event loop: OpenSSL never touches a socket. The
// loop hands in the ciphertext it received (a view, read in place: no copy into a
// memory BIO), takes the plaintext out into its own buffer, and sends the ciphertext
// OpenSSL left in the session's output buffer through its transport, whichever
// backend runs. Swift sees only the opaque types below.
//
// Every function returns 0 or a positive count on success and a negative CSHIM_TLS_*
// on failure; `cshim_tls_error_text` then says why, in OpenSSL's words.
#ifndef CSHIM_TLS_H
#define CSHIM_TLS_H

#include <stddef.h>
#include <stdint.h>

/// Shared settings of many sessions (an OpenSSL SSL_CTX): certificates, trust, versions.
typedef struct cshim_tls_context cshim_tls_context;
/// One connection's TLS state (an OpenSSL SSL) and its ciphertext buffers.
typedef struct cshim_tls cshim_tls;

enum {
    /// More ciphertext must arrive before this can go on (not an error).
    CSHIM_TLS_WANT_MORE = -1,
    /// The peer sent close_notify: its side of the TLS stream ended in order.
    CSHIM_TLS_CLOSED = -2,
    /// A protocol, certificate or configuration error; see `cshim_tls_error_text`.
    CSHIM_TLS_FAILED = -3,
};

/// Peer verification of a context.
enum {
    /// Ask nothing of the peer (a server without client certificates; an insecure client).
    CSHIM_TLS_VERIFY_NONE = 0,
    /// Verify the peer's certificate against the trusted CAs (a client's default;
    /// a server: ask for a client certificate, verify it when one comes).
    CSHIM_TLS_VERIFY_PEER = 1,
    /// A server: refuse a client without a certificate from a trusted CA (mutual TLS).
    CSHIM_TLS_VERIFY_REQUIRE = 2,
};

// --- contexts ---------------------------------------------------------------------

/// A new server (`is_server` 1) or client context, TLS 1.2 at least, renegotiation
/// refused. NULL on failure (see `cshim_tls_last_error`).
cshim_tls_context *cshim_tls_context_new(int is_server);
/// Releases the caller's reference; sessions made from the context keep it alive until
/// they are freed.
void cshim_tls_context_free(cshim_tls_context *ctx);
/// The certificate chain and private key, PEM, from memory; checks they match.
int cshim_tls_context_use_identity(cshim_tls_context *ctx, const char *chain_pem, size_t chain_len,
                                   const char *key_pem, size_t key_len);
/// Makes a fresh P-256 key and a certificate for it, signed by itself, valid for a day
/// for localhost, 127.0.0.1 and ::1, and uses them; writes the certificate's PEM into
/// `pem_out` (at most `cap` bytes, NUL-terminated) so that a client can trust exactly it.
/// For tests, demos and the load tool's embedded server: no file, nothing to leak.
int cshim_tls_context_use_self_signed(cshim_tls_context *ctx, char *pem_out, size_t cap);
/// Adds the CAs in `pem` to those the peer's certificate may chain to.
int cshim_tls_context_trust_pem(cshim_tls_context *ctx, const char *pem, size_t len);
/// Adds the system's CA store (OpenSSL's default paths).
int cshim_tls_context_trust_system(cshim_tls_context *ctx);
/// One of CSHIM_TLS_VERIFY_*.
void cshim_tls_context_set_verify(cshim_tls_context *ctx, int mode);
/// 12 for TLS 1.2, 13 for TLS 1.3.
int cshim_tls_context_set_min_version(cshim_tls_context *ctx, int version);
/// Protocols for ALPN, in the wire format (each name preceded by its length), in
/// order of preference: a client offers them, a server picks its first the client offers.
int cshim_tls_context_set_alpn(cshim_tls_context *ctx, const uint8_t *wire, size_t len);
/// A client context keeps the last session a server gave it and offers it again on
/// the next connection (`cshim_tls_new` with `resume`).
void cshim_tls_context_enable_client_resumption(cshim_tls_context *ctx);
/// The oldest error OpenSSL queued on this thread, as text, and clears the queue.
/// Writes at most `cap` bytes including the terminating NUL.
void cshim_tls_last_error(char *buf, size_t cap);

// --- sessions ----------------------------------------------------------------------

/// A session of `ctx` for one connection. A client names the server it expects
/// (`server_name`: sent as SNI when it is a host name and checked against the
/// certificate unless verification is off; NULL for none) and with `resume` offers the
/// context's last session. NULL on failure.
cshim_tls *cshim_tls_new(cshim_tls_context *ctx, const char *server_name, int resume);
/// Frees the session and its buffers.
void cshim_tls_free(cshim_tls *t);

/// Hands in `len` bytes of ciphertext, read in place by the calls that follow; call
/// `cshim_tls_end_input` before the bytes go away.
void cshim_tls_begin_input(cshim_tls *t, const void *bytes, size_t len);
/// Keeps (copies) whatever of the input OpenSSL did not read, to be read first next time.
void cshim_tls_end_input(cshim_tls *t);

/// Moves the handshake on. 1 once complete, CSHIM_TLS_WANT_MORE, or CSHIM_TLS_FAILED.
int cshim_tls_handshake(cshim_tls *t);
/// Decrypts into `out`: bytes of plaintext (> 0), CSHIM_TLS_WANT_MORE, CSHIM_TLS_CLOSED
/// or CSHIM_TLS_FAILED.
long cshim_tls_read(cshim_tls *t, void *out, size_t cap);
/// Encrypts all of `bytes` into the output buffer: `len`, or CSHIM_TLS_FAILED.
long cshim_tls_write(cshim_tls *t, const void *bytes, size_t len);
/// Queues close_notify in the output buffer (once).
void cshim_tls_close(cshim_tls *t);

/// The ciphertext waiting to be sent.
const uint8_t *cshim_tls_output(const cshim_tls *t, size_t *len);
/// The first `count` bytes of the output were taken.
void cshim_tls_output_taken(cshim_tls *t, size_t count);
/// Bytes of storage the session's buffers hold (input kept, output), for memory budgets.
size_t cshim_tls_buffered(const cshim_tls *t);

/// Why the last call failed: OpenSSL's reason, with the certificate check's when that
/// was it. Writes at most `cap` bytes including the terminating NUL.
void cshim_tls_error_text(const cshim_tls *t, char *buf, size_t cap);
/// 1 when the session was resumed (no full handshake).
int cshim_tls_resumed(const cshim_tls *t);
/// The protocol version in use ("TLSv1.3"), once the handshake completed.
const char *cshim_tls_version(const cshim_tls *t);
/// The cipher suite in use.
const char *cshim_tls_cipher(const cshim_tls *t);
/// The protocol ALPN chose (not NUL-terminated; `*len` 0 when none).
const uint8_t *cshim_tls_alpn(const cshim_tls *t, unsigned *len);

/// 1 when this kernel offers TLS in the kernel (the `tls` upper-layer protocol in
/// /proc/sys/net/ipv4/tcp_available_ulp), else 0.
int cshim_ktls_available(void);

#endif
