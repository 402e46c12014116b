import CShim

/// One connection's TLS state: the OpenSSL session and its ciphertext buffers, driven
/// by the connection on its loop (see `Connection`'s TLS paths). Loop-confined.
final class TLSSession {
    let pointer: OpaquePointer
    /// The handshake has completed: application data flows, and the handler was told
    /// the connection is open.
    var isEstablished = false
    /// Plaintext written before the handshake completed, encrypted once it has.
    var waiting = OnDemandBuffer()
    /// When the handshake began (monotonic nanoseconds), and how long it took.
    var startedAt: UInt64 = 0
    var handshakeNanoseconds: UInt64 = 0

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { cshim_tls_free(pointer) }

    /// Why the last operation failed, in OpenSSL's words.
    var errorText: String {
        var text = [CChar](repeating: 0, count: 256)
        cshim_tls_error_text(pointer, &text, text.count)
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Ciphertext waiting to be sent.
    var output: UnsafeRawBufferPointer {
        var count = 0
        let start = cshim_tls_output(pointer, &count)
        return UnsafeRawBufferPointer(start: start, count: count)
    }

    /// Bytes of storage the session holds in its own buffers.
    var bufferedBytes: Int { cshim_tls_buffered(pointer) + waiting.capacity }

    /// True when the handshake resumed an earlier session.
    var isResumed: Bool { cshim_tls_resumed(pointer) == 1 }

    /// The protocol version in use, such as "TLSv1.3".
    var version: String { String(cString: cshim_tls_version(pointer)) }

    /// The cipher suite in use.
    var cipher: String { cshim_tls_cipher(pointer).map { String(cString: $0) } ?? "none" }

    /// What was negotiated, once established.
    var details: TLSDetails? {
        guard isEstablished else { return nil }
        return TLSDetails(
            version: version, cipher: cipher, applicationProtocol: applicationProtocol, isResumed: isResumed,
            handshakeDuration: .nanoseconds(Int64(clamping: handshakeNanoseconds)))
    }

    /// The protocol ALPN chose, if any.
    var applicationProtocol: String? {
        var count: UInt32 = 0
        guard let bytes = cshim_tls_alpn(pointer, &count), count > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(count)), as: UTF8.self)
    }
}

/// What a connection's TLS handshake settled, for logs and load reports.
public struct TLSDetails: Sendable, Equatable {
    /// The protocol version, such as "TLSv1.3".
    public let version: String
    /// The cipher suite, such as "TLS_AES_256_GCM_SHA384".
    public let cipher: String
    /// The protocol ALPN chose, if any.
    public let applicationProtocol: String?
    /// True when an earlier session was resumed (no full handshake).
    public let isResumed: Bool
    /// From the TCP connection being up (or accepted) to the handshake completing.
    public let handshakeDuration: Duration
}

extension Connection {
    /// What TLS negotiated, once the handshake has completed (from `connectionDidOpen`
    /// on); nil for a plain connection. Call on the loop.
    public var tlsDetails: TLSDetails? { tls?.details }

    /// True when the connection speaks TLS.
    public var usesTLS: Bool { tls != nil }
}
