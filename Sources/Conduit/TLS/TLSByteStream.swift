import CShim

/// A TLS session driven by bytes alone, with no socket and no loop: what the transport
/// would hand in goes to `feed`, what it would send comes from `takeOutput`. The same C
/// glue as a connection's (the loop's BIO, input read in place, partial records kept),
/// exposed for the fuzz target that feeds it hostile bytes in chunks of every size.
@_spi(Fuzzing)
public final class TLSByteStream {
    /// Where the session is.
    public enum State: Equatable, Sendable {
        /// Handshaking, or established and waiting for records.
        case running
        /// The peer sent close_notify.
        case closed
        /// The session failed; OpenSSL's reason.
        case failed(String)
    }

    private let session: TLSSession
    /// Where the session is now.
    public private(set) var state = State.running
    /// True once the handshake completed.
    public var isEstablished: Bool { session.isEstablished }

    /// A session of `context` (a client's starts its handshake at once: see
    /// `takeOutput`); nil when OpenSSL cannot make one.
    public init?(context: TLSContext) {
        guard let session = context.makeSession(serverName: nil) else { return nil }
        self.session = session
        if !context.configuration.isServer { advance() }
    }

    /// Hands in `bytes` as received; returns the plaintext they completed.
    public func feed(_ bytes: [UInt8]) -> [UInt8] {
        guard state == .running else { return [] }
        return bytes.withUnsafeBytes { view in
            cshim_tls_begin_input(session.pointer, view.baseAddress, view.count)
            defer { cshim_tls_end_input(session.pointer) }
            return advance()
        }
    }

    /// What the session wants sent, taken out of it.
    public func takeOutput() -> [UInt8] {
        let output = session.output
        defer { cshim_tls_output_taken(session.pointer, output.count) }
        return Array(output)
    }

    /// Encrypts `bytes` into the output (after the handshake); false when the session
    /// has failed.
    public func write(_ bytes: [UInt8]) -> Bool {
        guard state == .running, session.isEstablished else { return false }
        return bytes.withUnsafeBytes { cshim_tls_write(session.pointer, $0.baseAddress, $0.count) } >= 0
    }

    /// Bytes of storage the session holds of its own (a partial record, output that did
    /// not fit its thread's shared buffer): what a connection is charged to its budget.
    public var storageBytes: Int { session.bufferedBytes }

    /// Handshakes, then reads records, until the session needs more input.
    @discardableResult
    private func advance() -> [UInt8] {
        if !session.isEstablished {
            let status = cshim_tls_handshake(session.pointer)
            if status == 1 {
                session.isEstablished = true
            } else {
                if Int(status) != Int(CSHIM_TLS_WANT_MORE) { state = .failed(session.errorText) }
                return []
            }
        }
        var plaintext: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { cshim_tls_read(session.pointer, $0.baseAddress, $0.count) }
            if count > 0 {
                plaintext += buffer[..<count]
                continue
            }
            if count == Int(CSHIM_TLS_CLOSED) { state = .closed }
            if count == Int(CSHIM_TLS_FAILED) { state = .failed(session.errorText) }
            return plaintext
        }
    }
}
