import CShim
import Glibc

/// Shared TLS settings, loaded once from a `TLSConfiguration` and used by every
/// connection made or accepted with it (an OpenSSL `SSL_CTX`). Safe to share between
/// loops and threads. A server's context can be reloaded (new certificate and key)
/// without touching the connections already open.
public final class TLSContext: Sendable {
    /// The context new sessions are made from, replaced by `reload`.
    private let current: Locked<Handle>
    /// The configuration this context was last loaded from.
    public var configuration: TLSConfiguration { loaded.withLock { $0 } }
    private let loaded: Locked<TLSConfiguration>

    /// The certificate a `selfSignedServer()` context made, as PEM, for a client to
    /// trust (`TLSConfiguration.Trust.certificates(.bytes(...))`); nil otherwise. A
    /// reload makes a new one, which this does not follow.
    public let selfSignedCertificate: [UInt8]?

    /// Loads `configuration`: reads its files, parses its PEM, checks the key matches
    /// the certificate. Throws, saying which, when something cannot be used.
    public init(_ configuration: TLSConfiguration) throws(TLSConfigurationError) {
        var made: [UInt8]?
        current = Locked(Handle(pointer: try Self.load(configuration, selfSigned: &made)))
        loaded = Locked(configuration)
        selfSignedCertificate = made
    }

    deinit { cshim_tls_context_free(current.withLock { $0 }.pointer) }

    /// Loads `configuration` (reading its files again) for the connections made from
    /// now on; those already open keep what they started with. On error nothing changes.
    public func reload(_ configuration: TLSConfiguration? = nil) throws(TLSConfigurationError) {
        let next = configuration ?? self.configuration
        var made: [UInt8]?
        let fresh = try Self.load(next, selfSigned: &made)
        let old = current.withLock { context in
            let old = context
            context = Handle(pointer: fresh)
            return old
        }
        loaded.withLock { $0 = next }
        cshim_tls_context_free(old.pointer)
    }

    /// True when this kernel could carry TLS records itself (kTLS: the `tls`
    /// upper-layer protocol is listed in /proc/sys/net/ipv4/tcp_available_ulp).
    public static var kernelTLSAvailable: Bool { cshim_ktls_available() == 1 }

    /// Where records are encrypted: "userspace" (OpenSSL, on the loop's thread) today.
    /// With kTLS offered, the record layer could move into the kernel; Conduit's loop
    /// feeds OpenSSL through its own buffers, which OpenSSL's kTLS does not take, so
    /// records stay in user space and this says why.
    public static var recordLayer: String {
        kernelTLSAvailable
            ? "userspace (kernel TLS is offered, but sessions run over the loop's buffers)"
            : "userspace (this kernel does not offer kernel TLS)"
    }

    /// A new session for one connection; `serverName` overrides the configuration's.
    func makeSession(serverName: String?) -> TLSSession? {
        let config = configuration
        let name = serverName ?? config.serverName
        let resume: Int32 = config.resumesSessions ? 1 : 0
        // Made under the lock: a reload cannot free the context in between.
        let session = current.withLock { context in
            SessionHandle(pointer: cshim_tls_new(context.pointer, name, resume))
        }
        return session.pointer.map(TLSSession.init)
    }

    private static func load(
        _ configuration: TLSConfiguration, selfSigned: inout [UInt8]?
    ) throws(TLSConfigurationError) -> OpaquePointer {
        guard let context = cshim_tls_context_new(configuration.isServer ? 1 : 0) else {
            throw TLSConfigurationError("cannot make a TLS context: \(lastError())")
        }
        do throws(TLSConfigurationError) {
            try configure(context, configuration)
            if configuration.generatesSelfSignedCertificate { selfSigned = try makeSelfSigned(context) }
            return context
        } catch {
            cshim_tls_context_free(context)
            throw error
        }
    }

    private static func configure(_ context: OpaquePointer, _ configuration: TLSConfiguration) throws(TLSConfigurationError) {
        if configuration.isServer && !configuration.generatesSelfSignedCertificate
            && (configuration.certificateChain == nil || configuration.privateKey == nil)
        {
            throw TLSConfigurationError("a TLS server needs a certificate chain and a private key")
        }
        if let chainSource = configuration.certificateChain {
            guard let keySource = configuration.privateKey else {
                throw TLSConfigurationError("a certificate chain needs its private key")
            }
            let chain = try read(chainSource, what: "certificate chain")
            let key = try read(keySource, what: "private key")
            let status = chain.withUnsafeBytes { c in
                key.withUnsafeBytes { k in
                    cshim_tls_context_use_identity(
                        context, c.baseAddress?.assumingMemoryBound(to: CChar.self), c.count,
                        k.baseAddress?.assumingMemoryBound(to: CChar.self), k.count)
                }
            }
            if status != 0 {
                throw TLSConfigurationError(
                    "cannot use the certificate \(chainSource.name) with the key \(keySource.name): \(lastError())")
            }
        }
        // A server that asks for no client certificate has nothing to check against a
        // store; loading the system's would make OpenSSL search it (files under
        // /etc/ssl/certs) for a chain on every full handshake.
        let needsTrust = !configuration.isServer || configuration.verification != .none
        switch configuration.trust {
        case _ where !needsTrust:
            break
        case .system:
            if cshim_tls_context_trust_system(context) != 0 {
                throw TLSConfigurationError("cannot load the system's CA store: \(lastError())")
            }
        case .certificates(let source):
            let pem = try read(source, what: "trusted CA certificates")
            let status = pem.withUnsafeBytes {
                cshim_tls_context_trust_pem(context, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count)
            }
            if status != 0 {
                throw TLSConfigurationError("no CA certificate could be read from \(source.name): \(lastError())")
            }
        }
        switch configuration.verification {
        case .none: cshim_tls_context_set_verify(context, Int32(CSHIM_TLS_VERIFY_NONE))
        case .peer: cshim_tls_context_set_verify(context, Int32(CSHIM_TLS_VERIFY_PEER))
        case .requirePeerCertificate: cshim_tls_context_set_verify(context, Int32(CSHIM_TLS_VERIFY_REQUIRE))
        }
        _ = cshim_tls_context_set_min_version(context, configuration.minimumVersion == .tls13 ? 13 : 12)
        if !configuration.applicationProtocols.isEmpty {
            var wire: [UInt8] = []
            for name in configuration.applicationProtocols {
                let bytes = Array(name.utf8)
                guard (1...255).contains(bytes.count) else {
                    throw TLSConfigurationError("an ALPN protocol name has 1 to 255 bytes: '\(name)'")
                }
                wire.append(UInt8(bytes.count))
                wire += bytes
            }
            if wire.withUnsafeBufferPointer({ cshim_tls_context_set_alpn(context, $0.baseAddress, $0.count) }) != 0 {
                throw TLSConfigurationError("cannot set ALPN: \(lastError())")
            }
        }
        if !configuration.isServer && configuration.resumesSessions {
            cshim_tls_context_enable_client_resumption(context)
        }
    }

    private static func makeSelfSigned(_ context: OpaquePointer) throws(TLSConfigurationError) -> [UInt8] {
        var pem = [CChar](repeating: 0, count: 8192)
        guard cshim_tls_context_use_self_signed(context, &pem, pem.count) == 0 else {
            throw TLSConfigurationError("cannot make a self-signed certificate: \(lastError())")
        }
        return pem.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    }

    private static func read(_ source: TLSConfiguration.PEM, what: String) throws(TLSConfigurationError) -> [UInt8] {
        switch source {
        case .bytes(let bytes):
            return bytes
        case .file(let path):
            guard let bytes = readWholeFile(path) else {
                throw TLSConfigurationError("cannot read the \(what) file \(path): \(String(cString: strerror(errno)))")
            }
            return bytes
        }
    }

    private static func readWholeFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes += chunk[0..<count]
            if count < chunk.count { return ferror(file) == 0 ? bytes : nil }
        }
    }

    static func lastError() -> String {
        var text = [CChar](repeating: 0, count: 256)
        cshim_tls_last_error(&text, text.count)
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

extension TLSContext {
    /// An OpenSSL context as a value that may cross threads: OpenSSL allows sharing a
    /// configured `SSL_CTX`, and its owner's reference is counted atomically in C.
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// A session just made, carried out of the lock; only its maker uses it.
    private struct SessionHandle: @unchecked Sendable {
        let pointer: OpaquePointer?
    }
}

extension TLSConfiguration.PEM {
    /// How messages name it.
    var name: String {
        switch self {
        case .file(let path): return path
        case .bytes: return "(given in memory)"
        }
    }
}
