import ArgumentParser
import Conduit

/// A client's TLS flags: `--tls`, `--tls-ca`, `--tls-server-name`, `--tls-cert` and
/// `--tls-key` (mutual TLS), and `--tls-insecure`.
struct TLSClientFlags: ParsableArguments {
    @Flag(help: "Speak TLS to the server, checking its certificate against the system's CAs (or --tls-ca).")
    var tls = false
    @Option(help: ArgumentHelp("Trust only the CAs in this file (PEM); implies --tls.", valueName: "file"))
    var tlsCa: String?
    @Option(help: ArgumentHelp(
        "The name the server's certificate must carry, sent as SNI (default: HOST as given); implies --tls.",
        valueName: "name"))
    var tlsServerName: String?
    @Option(help: ArgumentHelp("Present this client certificate (PEM), for mutual TLS; needs --tls-key.", valueName: "file"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("The private key of --tls-cert (PEM).", valueName: "file"))
    var tlsKey: String?
    @Flag(help: "Speak TLS without checking the server's certificate (testing only: anyone can pretend to be the server); warned on every run.")
    var tlsInsecure = false
    @Flag(help: "Make a full handshake on every connection instead of resuming the last session (to measure full handshakes).")
    var noTlsResume = false

    /// True when any flag asks for TLS.
    var enabled: Bool { tls || tlsCa != nil || tlsServerName != nil || tlsCert != nil || tlsInsecure || noTlsResume }

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsInsecure && tlsCa != nil { throw ValidationError("--tls-insecure checks nothing, so --tls-ca would not be used") }
    }

    /// The context for these flags talking to `host`, or nil for plain TCP; one clear
    /// line and exit 1 when a file cannot be used. Warns on stderr when insecure.
    func context(host: String, warn: Bool = true) throws -> TLSContext? {
        guard enabled else { return nil }
        var configuration = TLSConfiguration.client(
            serverName: tlsServerName ?? (host.isEmpty ? nil : host), trust: tlsCa.map { .certificates(.file($0)) } ?? .system)
        if let tlsCert, let tlsKey {
            configuration.certificateChain = .file(tlsCert)
            configuration.privateKey = .file(tlsKey)
        }
        configuration.resumesSessions = !noTlsResume
        if tlsInsecure {
            configuration.verification = .none
            if warn {
                FileHandleOutput.standardError(
                "conduit: warning: --tls-insecure: the server's certificate is not checked; anyone on the path can read and change this traffic")
            }
        }
        do {
            return try TLSContext(configuration)
        } catch {
            throw fail("TLS: \(error)")
        }
    }

    /// The same flags as arguments, for worker processes.
    var arguments: [String] {
        var list: [String] = []
        if tls { list.append("--tls") }
        if let tlsCa { list += ["--tls-ca", tlsCa] }
        if let tlsServerName { list += ["--tls-server-name", tlsServerName] }
        if let tlsCert, let tlsKey { list += ["--tls-cert", tlsCert, "--tls-key", tlsKey] }
        if tlsInsecure { list.append("--tls-insecure") }
        if noTlsResume { list.append("--no-tls-resume") }
        return list
    }
}
