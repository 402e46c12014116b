import ArgumentParser
import Conduit

/// A server's TLS flags: `--tls-cert FILE --tls-key FILE`, and `--tls-client-ca FILE`
/// for mutual TLS. SIGUSR2 reads the files again (see `ServerSignals`).
struct TLSServerFlags: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Serve TLS with this certificate chain (PEM: the server's certificate, then any intermediates); needs --tls-key. SIGUSR2 reads both files again without dropping connections.",
        valueName: "file"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("The private key of --tls-cert (PEM).", valueName: "file"))
    var tlsKey: String?
    @Option(help: ArgumentHelp(
        "Mutual TLS: require a client certificate signed by a CA in this file (PEM).", valueName: "file"))
    var tlsClientCa: String?
    @Option(help: ArgumentHelp("The lowest TLS version accepted: 1.2 or 1.3.", valueName: "version"))
    var tlsMinVersion: String = "1.2"

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together: give both to serve TLS")
        }
        if tlsCert == nil && tlsClientCa != nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
        _ = try parseTLSVersion(tlsMinVersion)
    }

    /// The configuration these flags ask for; nil for plain TCP.
    var configuration: TLSConfiguration? {
        guard let tlsCert, let tlsKey else { return nil }
        var configuration = TLSConfiguration.server(certificateChain: .file(tlsCert), privateKey: .file(tlsKey))
        if let tlsClientCa {
            configuration.trust = .certificates(.file(tlsClientCa))
            configuration.verification = .requirePeerCertificate
        }
        configuration.minimumVersion = (try? parseTLSVersion(tlsMinVersion)) ?? .tls12
        return configuration
    }

    /// The context for these flags, or one clear line and exit 1 when a file cannot be used.
    func context() throws -> TLSContext? {
        guard let configuration else { return nil }
        do {
            return try TLSContext(configuration)
        } catch {
            throw fail("TLS: \(error)")
        }
    }

    /// The same flags as arguments, for worker processes.
    var arguments: [String] {
        guard let tlsCert, let tlsKey else { return [] }
        var list = ["--tls-cert", tlsCert, "--tls-key", tlsKey, "--tls-min-version", tlsMinVersion]
        if let tlsClientCa { list += ["--tls-client-ca", tlsClientCa] }
        return list
    }

    /// The line a TLS server prints after `Listening on`: what it serves and where
    /// records are encrypted.
    func announcement(_ context: TLSContext) -> String {
        let mutual = tlsClientCa != nil ? ", client certificates required" : ""
        return "TLS \(tlsMinVersion)+ with \(tlsCert ?? "")\(mutual); records in \(TLSContext.recordLayer)"
    }
}

/// "1.2" or "1.3" as a minimum version; a usage error otherwise.
func parseTLSVersion(_ text: String) throws -> TLSConfiguration.Version {
    switch text {
    case "1.2": return .tls12
    case "1.3": return .tls13
    default: throw ValidationError("--tls-min-version is 1.2 or 1.3 (got \(text))")
    }
}
