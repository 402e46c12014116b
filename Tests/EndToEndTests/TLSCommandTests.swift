import ConduitTestSupport
import Foundation
import Testing

/// TLS from the command line, against peers no one here wrote: Python's ssl module (the
/// tutorial's language), `openssl s_client`, and the load tool's handshake report.
@Suite("TLS on the command line")
struct TLSCommandTests {
    let certificates: TestCertificates

    init() throws { certificates = try TestCertificates.shared() }

    var serverFlags: [String] { ["--tls-cert", certificates.serverCertificate, "--tls-key", certificates.serverKey] }

    /// The tutorial's app client in Python, wrapped in `ssl.create_default_context`,
    /// gets the tutorial's answer from `conduit app-server` over TLS.
    @Test func pythonsAppClientOverTLS() throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0"] + serverFlags)
        defer { server.signal(SIGKILL) }
        let port = String(try #require(server.listeningPort()))
        #expect(server.waitForOutput(containing: "TLS 1.2+ with \(certificates.serverCertificate)"))
        #expect(server.stdout.contains("records in userspace"))
        let client = try python("py_app_client.py", ["localhost", port, "search", "morpheus", "--tls-ca", certificates.caCertificate])
            .finish(seconds: 20)
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout.hasPrefix("Got result: Follow the white rabbit. 🐰\n"), "\(client.stdout)")
    }

    /// `openssl s_client` checks the chain and name and gets its line echoed.
    @Test func opensslSClientIsEchoed() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet"] + serverFlags)
        defer { server.signal(SIGKILL) }
        let port = try #require(server.listeningPort())
        let result = try python("tls_peer.py", ["s_client", String(port), certificates.caCertificate, "over tls"])
            .finish(seconds: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "s_client echoed: over tls\n", "\(result.stdout) \(result.stderr)")
    }

    /// The other way: conduit's echo client speaks TLS to Python's ssl echo server.
    @Test func echoClientToPythonsTLSServer() throws {
        let peer = try python("tls_peer.py", ["echo-server", certificates.serverCertificate, certificates.serverKey])
        defer { peer.signal(SIGKILL) }
        let port = String(try #require(peer.listeningPort()))
        let result = try runConduit(["echo-client", "localhost", port, "it's TLS", "--tls-ca", certificates.caCertificate])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "Received b\"it's TLS\"\n", "\(result.stdout)")
    }

    /// Conduit's echo client against `openssl s_server`: it checks s_server's
    /// certificate, s_server prints what it sent, and it reads s_server's record (the
    /// same text, typed into s_server's stdin, so the client sees its echo).
    @Test func echoClientToOpensslSServer() throws {
        let peer = try python(
            "tls_peer.py", ["s_server", certificates.serverCertificate, certificates.serverKey, "to and from s_server"])
        defer { peer.signal(SIGKILL) }
        let port = String(try #require(peer.listeningPort()))
        let client = try runConduit(["echo-client", "localhost", port, "to and from s_server", "--tls-ca", certificates.caCertificate])
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout == "Received b'to and from s_server'\n", "\(client.stdout)")
        let server = peer.finish(seconds: 60)
        #expect(server.stdout.hasSuffix("s_server received: to and from s_server\n"), "\(server.stdout) \(server.stderr)")
    }

    /// A client that checks refuses a certificate it cannot trust, in one line; with
    /// --tls-insecure it goes through, warned.
    @Test func untrustedServerIsRefusedUnlessInsecure() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet"] + serverFlags)
        defer { server.signal(SIGKILL) }
        let port = String(try #require(server.listeningPort()))
        let refused = try runConduit(["echo-client", "localhost", port, "hi", "--tls"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("certificate verify failed"), "\(refused.stderr)")
        let insecure = try runConduit(["echo-client", "localhost", port, "hi", "--tls-insecure"])
        #expect(insecure.status == 0, "\(insecure.stderr)")
        #expect(insecure.stderr.contains("warning: --tls-insecure"))
    }

    /// TLS to a plaintext server fails with a TLS error, not a hang or a crash.
    @Test func tlsClientOnAPlainPort() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet"])
        defer { server.signal(SIGKILL) }
        let port = String(try #require(server.listeningPort()))
        let result = try runConduit(["echo-client", "localhost", port, "hi", "--tls-ca", certificates.caCertificate], seconds: 30)
        #expect(result.status == 1)
        #expect(result.stderr.contains("TLS"), "\(result.stderr)")
    }

    /// A connection the server ends (here at its idle timeout) ends with close_notify,
    /// so the client can tell an intended end from a cut (Python's ssl, with ragged ends
    /// reported, reads an orderly end).
    @Test func theServerSaysCloseNotify() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet", "--idle-timeout", "1s"] + serverFlags)
        defer { server.signal(SIGKILL) }
        let port = String(try #require(server.listeningPort()))
        let client = try python("tls_peer.py", ["until-close", port, certificates.caCertificate]).finish(seconds: 30)
        #expect(client.stdout == "close_notify\n", "\(client.stdout) \(client.stderr)")
        // The loops' counters at exit (as --stats prints them) say where records were
        // encrypted, and why, by what the kernel lists.
        let modules = (try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_available_ulp", encoding: .utf8)) ?? ""
        let why = modules.split(whereSeparator: \.isWhitespace).contains("tls")
            ? "kernel TLS is offered, but sessions run over the loop's buffers" : "this kernel does not offer kernel TLS"
        server.signal(SIGTERM)
        let ended = server.finish(seconds: 30)
        #expect((ended.stdout + ended.stderr).contains("1 TLS handshakes (0 resumed, 0 failed), records in userspace (\(why))"),
                "\(ended.stdout) \(ended.stderr)")
    }

    /// A TLS 1.2 client that asks to renegotiate is refused and its connection closed
    /// with a TLS error; the next client is served.
    @Test func renegotiationIsRefused() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0"] + serverFlags)
        defer { server.signal(SIGKILL) }
        let port = String(try #require(server.listeningPort()))
        let attempt = try python("tls_peer.py", ["renegotiate", port, certificates.caCertificate]).finish(seconds: 30)
        #expect(attempt.stdout.contains("RENEGOTIATING"), "\(attempt.stdout)")
        #expect(attempt.stdout.contains("no renegotiation"), "\(attempt.stdout)")
        #expect(server.waitForOutput(containing: "(TLS record: "), "\(server.stdout)")
        let next = try python("tls_peer.py", ["s_client", port, certificates.caCertificate, "still here"]).finish(seconds: 30)
        #expect(next.stdout == "s_client echoed: still here\n", "\(next.stderr)")
    }

    /// Thousands of one-byte records (each its own TLS record) are all echoed, in order.
    @Test func manyTinyRecords() throws {
        let server = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet"] + serverFlags)
        defer { server.signal(SIGKILL) }
        let port = String(try #require(server.listeningPort()))
        let client = try python("tls_peer.py", ["tiny", "localhost", port, certificates.caCertificate, "3000"]).finish(seconds: 60)
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout == "echoed 3000 bytes\n")
    }

    /// `conduit load --tls` with connection churn counts the handshakes, resumes the
    /// sessions after the first, and reports both in the JSON.
    @Test func loadReportsHandshakes() throws {
        let server = try ChildProcess(["app-server", "127.0.0.1", "0", "--log-level", "warning"] + serverFlags)
        defer { server.signal(SIGKILL) }
        let port = try #require(server.listeningPort())
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("tls-load-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let result = try runConduit([
            "load", "--target", "localhost:\(port)", "--tls-ca", certificates.caCertificate, "--connections", "2",
            "--requests-per-connection", "2", "--duration", "1s", "--quiet", "--json", json.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("TLS: "), "\(result.stdout)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let tls = try #require(report["tls"] as? [String: Any])
        let handshakes = try #require(tls["handshakes"] as? Int)
        let resumed = try #require(tls["resumed"] as? Int)
        #expect(handshakes >= 4)
        // A connection that starts before any answer brought a ticket makes a full one.
        #expect(resumed * 10 >= handshakes * 9, "only \(resumed) of \(handshakes) resumed")
        #expect((report["error_count"] as? Int) == 0)
    }

    /// `conduit load --tls` alone loads the embedded server over TLS, with a certificate
    /// made for the run that the client checks.
    @Test func loadTheEmbeddedServerOverTLS() throws {
        let result = try runConduit(["load", "--tls", "--duration", "1s", "--connections", "4", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("TLS: 4 handshakes"), "\(result.stdout)")
        #expect(result.stdout.contains("errors: 0"), "\(result.stdout)")
    }

    /// SIGUSR2 reads the certificate again: connections made afterwards see the new one.
    @Test func sigusr2ReloadsTheCertificate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-reload-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let served = directory.appendingPathComponent("served.pem").path
        try FileManager.default.copyItem(atPath: certificates.serverCertificate, toPath: served)
        let server = try ChildProcess(
            ["multiconn-server", "127.0.0.1", "0", "--quiet", "--tls-cert", served, "--tls-key", certificates.serverKey])
        defer { server.signal(SIGKILL) }
        let port = String(try #require(server.listeningPort()))
        let before = try python("tls_peer.py", ["certificate", "127.0.0.1", port]).finish(seconds: 20)
        try FileManager.default.removeItem(atPath: served)
        try FileManager.default.copyItem(atPath: certificates.wrongHostCertificate, toPath: served)
        server.signal(SIGUSR2)
        #expect(server.waitForError(containing: "reloaded the TLS certificate and key"), "\(server.stderr)")
        let after = try python("tls_peer.py", ["certificate", "127.0.0.1", port]).finish(seconds: 20)
        let pem = { (path: String) in try String(contentsOfFile: path, encoding: .utf8) }
        #expect(before.stdout == (try pem(certificates.serverCertificate)))
        #expect(after.stdout == (try pem(certificates.wrongHostCertificate)))
    }

    /// Flags that do not go together are usage errors (exit 64), saying which.
    @Test func tlsFlagMistakes() throws {
        let halfServer = try runConduit(["app-server", "127.0.0.1", "0", "--tls-cert", certificates.serverCertificate])
        #expect(halfServer.status == 64)
        #expect(halfServer.stderr.contains("--tls-cert and --tls-key go together"))
        let missing = try runConduit(["app-server", "127.0.0.1", "0", "--tls-cert", "/nonexistent.pem", "--tls-key", certificates.serverKey])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read the certificate chain file /nonexistent.pem"), "\(missing.stderr)")
        let embedded = try runConduit(["load", "--tls-ca", certificates.caCertificate, "--duration", "1s"])
        #expect(embedded.status == 64)
        #expect(embedded.stderr.contains("give --tls alone, or --target"), "\(embedded.stderr)")
    }
}
