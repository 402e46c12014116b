/// What a TLS endpoint presents and whom it trusts: the settings a `TLSContext` is made
/// from. Build one with `server(certificateChain:privateKey:)` or `client(...)` and
/// change what you need.
public struct TLSConfiguration: Sendable {
    /// PEM text, from a file or from memory.
    public enum PEM: Sendable, Equatable {
        /// A file read when the context is made (and again by `TLSContext.reload`).
        case file(String)
        /// The PEM text itself.
        case bytes([UInt8])
    }

    /// Which certificates the peer's may chain to.
    public enum Trust: Sendable, Equatable {
        /// The system's CA store (OpenSSL's default paths).
        case system
        /// Only the CAs in this PEM (for example a private CA).
        case certificates(PEM)
    }

    /// How the peer's certificate is checked.
    public enum Verification: Sendable, Equatable {
        /// Not at all: a client accepts any server (`--tls-insecure`); a server asks for
        /// no client certificate.
        case none
        /// A client checks the server's chain and name (the client default). A server
        /// asks for a client certificate and checks any it gets.
        case peer
        /// A server refuses a client without a certificate from `trust` (mutual TLS).
        case requirePeerCertificate
    }

    /// The lowest protocol version accepted.
    public enum Version: Sendable, Equatable {
        /// TLS 1.2 and 1.3 (the default).
        case tls12
        /// TLS 1.3 only.
        case tls13
    }

    /// True for a server's configuration.
    public let isServer: Bool
    /// This endpoint's certificate, then any intermediates (required for a server;
    /// a client's, for mutual TLS).
    public var certificateChain: PEM?
    /// The private key of the chain's first certificate.
    public var privateKey: PEM?
    /// Whose certificates the peer's may chain to. A server reads it only when
    /// `verification` asks for client certificates.
    public var trust: Trust
    /// How the peer's certificate is checked.
    public var verification: Verification
    /// The lowest protocol version accepted.
    public var minimumVersion: Version
    /// ALPN protocol names in order of preference (empty: no ALPN).
    public var applicationProtocols: [String]
    /// A client: the name sent as SNI and checked against the server's certificate
    /// (an IP address is checked, not sent); nil: the host connected to, when known.
    public var serverName: String?
    /// A server: make a fresh key and a certificate signed by itself (for localhost,
    /// 127.0.0.1 and ::1, valid a day) instead of reading `certificateChain`; clients
    /// trust exactly it through `TLSContext.selfSignedCertificate`. For tests and demos.
    public var generatesSelfSignedCertificate = false
    /// A client: offer the last session a server gave this context on the next
    /// connection, for a resumed handshake.
    public var resumesSessions: Bool

    /// A server presenting `certificateChain` with `privateKey`; asks for no client
    /// certificate (set `verification` and `trust` for mutual TLS).
    public static func server(certificateChain: PEM, privateKey: PEM) -> TLSConfiguration {
        TLSConfiguration(
            isServer: true, certificateChain: certificateChain, privateKey: privateKey, trust: .system,
            verification: .none, minimumVersion: .tls12, applicationProtocols: [], serverName: nil,
            resumesSessions: false)
    }

    /// A server with a certificate made for it on the spot (see
    /// `generatesSelfSignedCertificate`): TLS without any file, for tests and demos.
    public static func selfSignedServer() -> TLSConfiguration {
        var configuration = TLSConfiguration(
            isServer: true, certificateChain: nil, privateKey: nil, trust: .system, verification: .none,
            minimumVersion: .tls12, applicationProtocols: [], serverName: nil, resumesSessions: false)
        configuration.generatesSelfSignedCertificate = true
        return configuration
    }

    /// A client that checks the server's certificate against `trust` and its name
    /// against `serverName`.
    public static func client(serverName: String? = nil, trust: Trust = .system) -> TLSConfiguration {
        TLSConfiguration(
            isServer: false, certificateChain: nil, privateKey: nil, trust: trust, verification: .peer,
            minimumVersion: .tls12, applicationProtocols: [], serverName: serverName, resumesSessions: true)
    }
}

/// A TLS configuration that cannot be used: a file missing or unreadable, PEM that
/// does not parse, a key that does not match its certificate.
public struct TLSConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What was wrong, for people.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
