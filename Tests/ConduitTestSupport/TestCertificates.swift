import Foundation

/// Certificates made for the tests by the `openssl` command when first asked for (no
/// private key is committed): a CA, a server certificate it signed for `localhost`,
/// 127.0.0.1 and ::1, and the bad ones a client must refuse — self-signed, expired, not
/// yet valid, for another host — plus client certificates from that CA and from another.
/// All ECDSA P-256; one key serves every server certificate.
package struct TestCertificates: Sendable {
    /// The directory they are in: one per test process, under the temporary directory.
    package let directory: String

    package var caCertificate: String { path("ca.pem") }
    package var serverCertificate: String { path("server.pem") }
    package var serverKey: String { path("server.key") }
    package var selfSignedCertificate: String { path("self-signed.pem") }
    package var expiredCertificate: String { path("expired.pem") }
    package var notYetValidCertificate: String { path("not-yet-valid.pem") }
    package var wrongHostCertificate: String { path("wrong-host.pem") }
    package var clientCertificate: String { path("client.pem") }
    package var clientKey: String { path("client.key") }
    /// A client certificate signed by a CA the server does not trust.
    package var strangerCertificate: String { path("stranger.pem") }
    package var strangerKey: String { path("stranger.key") }

    package func path(_ name: String) -> String { directory + "/" + name }

    /// The set for this test process, made on first use.
    package static func shared() throws -> TestCertificates {
        try made.get()
    }

    private static let made: Result<TestCertificates, CertificateError> = Result { () throws(CertificateError) in try make() }

    /// The `openssl` command failed; its output says why.
    package struct CertificateError: Error, CustomStringConvertible {
        package let description: String
    }

    private static func make() throws(CertificateError) -> TestCertificates {
        let directory = NSTemporaryDirectory() + "conduit-tls-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        do {
            try FileManager.default.createDirectory(atPath: directory + "/issued", withIntermediateDirectories: true)
        } catch {
            throw CertificateError(description: "cannot make \(directory): \(error)")
        }
        let certificates = TestCertificates(directory: directory)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let names = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
        try write(names, to: certificates.path("server.ext"))
        try write("subjectAltName=DNS:example.invalid\n", to: certificates.path("wrong-host.ext"))
        try write("extendedKeyUsage=clientAuth\n", to: certificates.path("client.ext"))
        try write(
            """
            [ca]
            default_ca = test
            [test]
            database = index.txt
            new_certs_dir = issued
            serial = serial
            default_md = sha256
            policy = any
            unique_subject = no
            [any]
            commonName = supplied

            """, to: certificates.path("ca.cnf"))
        try write("", to: certificates.path("index.txt"))
        try write("01\n", to: certificates.path("serial"))
        let steps: [[String]] = [
            ["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Conduit Test CA"],
            ["req", "-x509"] + ec + ["-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "30", "-subj", "/CN=Another CA"],
            ["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "30", "-extfile", "server.ext"],
            ["req", "-x509", "-key", "server.key", "-out", "self-signed.pem", "-days", "30", "-subj", "/CN=localhost",
             "-addext", names.trimmingCharacters(in: .newlines)],
            // -days -1: valid from now until yesterday, that is expired.
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "expired.pem", "-days", "-1", "-extfile", "server.ext"],
            ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "server.csr",
             "-out", "not-yet-valid.pem", "-startdate", "21000101000000Z", "-enddate", "21010101000000Z",
             "-extfile", "server.ext", "-notext"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "wrong-host.pem", "-days", "30", "-extfile", "wrong-host.ext"],
            ["req"] + ec + ["-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=conduit test client"],
            ["x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "client.pem", "-days", "30", "-extfile", "client.ext"],
            ["req"] + ec + ["-keyout", "stranger.key", "-out", "stranger.csr", "-subj", "/CN=stranger"],
            ["x509", "-req", "-in", "stranger.csr", "-CA", "other-ca.pem", "-CAkey", "other-ca.key", "-CAcreateserial",
             "-out", "stranger.pem", "-days", "30", "-extfile", "client.ext"],
        ]
        for step in steps { try openssl(step, in: directory) }
        return certificates
    }

    private static func write(_ text: String, to path: String) throws(CertificateError) {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CertificateError(description: "cannot write \(path): \(error)")
        }
    }

    private static func openssl(_ arguments: [String], in directory: String) throws(CertificateError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw CertificateError(description: "cannot run openssl: \(error)")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CertificateError(description: "openssl \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}
