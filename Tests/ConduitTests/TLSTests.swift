import Conduit
import ConduitTestSupport
import ConduitTutorial
import Glibc
import Testing

/// A server's TLS context with the test CA's certificate for localhost.
func serverTLS(certificate: String? = nil, verification: TLSConfiguration.Verification = .none) throws -> TLSContext {
    let certificates = try TestCertificates.shared()
    var configuration = TLSConfiguration.server(
        certificateChain: .file(certificate ?? certificates.serverCertificate), privateKey: .file(certificates.serverKey))
    configuration.verification = verification
    configuration.trust = .certificates(.file(certificates.caCertificate))
    return try TLSContext(configuration)
}

/// A client's TLS context trusting only the test CA.
func clientTLS(certificate: String? = nil, key: String? = nil, serverName: String? = "localhost") throws -> TLSContext {
    let certificates = try TestCertificates.shared()
    var configuration = TLSConfiguration.client(
        serverName: serverName, trust: .certificates(.file(certificates.caCertificate)))
    if let certificate, let key {
        configuration.certificateChain = .file(certificate)
        configuration.privateKey = .file(key)
    }
    return try TLSContext(configuration)
}

/// Runs `body` with a TLS echo server on a loopback port.
func withTLSEchoServer<R>(
    backend: IOBackend, tls: TLSContext, threads: Int = 1, handshakeTimeout: Duration = .seconds(10),
    _ body: (SocketAddress, Server) throws -> R
) throws -> R {
    let group = try EventLoopGroup(threads: threads, backend: backend)
    defer { group.syncShutdown() }
    let options = ServerOptions(tls: tls, tlsHandshakeTimeout: handshakeTimeout)
    let server = try Server(group: group, address: .loopback(port: 0), options: options) { _ in EchoHandler() }
    return try body(server.address, server)
}

/// One echo exchange over TLS on a private loop; returns it once closed.
func tlsExchange(
    _ messages: [[UInt8]], with address: SocketAddress, backend: IOBackend, tls: TLSContext, serverName: String? = nil
) throws -> EchoExchange {
    let loop = try EventLoop(backend: backend)
    let exchange = EchoExchange(messages: messages) { _, event in
        if case .closed = event { loop.stop() }
    }
    try Connection.connect(
        to: address, on: loop, options: ConnectOptions(tls: tls, tlsServerName: serverName), handler: exchange)
    loop.run()
    return exchange
}

@Suite("TLS: a session over every backend")
struct TLSTests {
    /// Small and large messages come back byte for byte through TLS records, on every
    /// backend, with one and two loops.
    @Test(arguments: IOBackend.allCases, [1, 2])
    func echoOverTLS(backend: IOBackend, threads: Int) throws {
        try requireUsable(backend)
        let messages = [Array("Hello, world".utf8), payload(count: 3 << 20), Array("bye".utf8)]
        try withTLSEchoServer(backend: backend, tls: try serverTLS(), threads: threads) { address, _ in
            let result = try tlsExchange(messages, with: address, backend: backend, tls: try clientTLS())
            #expect(result.failure == nil)
            #expect(result.received == messages.flatMap { $0 })
        }
    }

    /// The client refuses a server whose certificate it cannot trust, saying why, and
    /// the server goes on serving others.
    @Test(arguments: [
        ("self-signed", "self-signed certificate"), ("expired", "certificate has expired"),
        ("not-yet-valid", "certificate is not yet valid"), ("wrong-host", "hostname mismatch"),
    ])
    func aClientRefusesABadCertificate(name: String, reason: String) throws {
        let certificates = try TestCertificates.shared()
        let server = try serverTLS(certificate: certificates.path("\(name).pem"))
        try withTLSEchoServer(backend: .shim, tls: server) { address, _ in
            let result = try tlsExchange([Array("hi".utf8)], with: address, backend: .shim, tls: try clientTLS())
            guard case .connect(let error) = result.failure else {
                Issue.record("expected a failed handshake, got \(String(describing: result.failure))")
                return
            }
            #expect(error.kind == .tls)
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    /// The name asked for is checked: the certificate is for localhost and 127.0.0.1,
    /// not for 127.0.0.2.
    @Test func theServerNameIsChecked() throws {
        try withTLSEchoServer(backend: .shim, tls: try serverTLS()) { address, _ in
            let byAddress = try tlsExchange(
                [Array("hi".utf8)], with: address, backend: .shim, tls: try clientTLS(serverName: "127.0.0.1"))
            #expect(byAddress.failure == nil)
            let wrong = try tlsExchange(
                [Array("hi".utf8)], with: address, backend: .shim, tls: try clientTLS(serverName: "127.0.0.2"))
            #expect(wrong.failure != nil)
        }
    }

    /// Mutual TLS: a client certificate from the trusted CA gets in; one from another
    /// CA, or none, is refused.
    @Test func mutualTLSRefusesStrangers() throws {
        let certificates = try TestCertificates.shared()
        let server = try serverTLS(verification: .requirePeerCertificate)
        try withTLSEchoServer(backend: .shim, tls: server) { address, _ in
            let known = try tlsExchange(
                [Array("hi".utf8)], with: address, backend: .shim,
                tls: try clientTLS(certificate: certificates.clientCertificate, key: certificates.clientKey))
            #expect(known.failure == nil)
            for client in [
                try clientTLS(certificate: certificates.strangerCertificate, key: certificates.strangerKey),
                try clientTLS(),
            ] {
                let refused = try tlsExchange([Array("hi".utf8)], with: address, backend: .shim, tls: client)
                #expect(refused.failure != nil)
                #expect(!refused.received.elementsEqual("hi".utf8))
            }
        }
    }

    /// Bytes that are not TLS — garbage, or a plaintext client — close that connection
    /// with a TLS error; a TLS client right after is served.
    @Test(arguments: IOBackend.allCases, ["GET / HTTP/1.0\r\n\r\n", "\u{0}\u{1}\u{2}garbage"])
    func notTLSIsRefusedAndHarmsNobody(backend: IOBackend, junk: String) throws {
        try requireUsable(backend)
        try withTLSEchoServer(backend: backend, tls: try serverTLS()) { address, _ in
            let client = try BlockingClient(port: address.port)
            client.send(Array(junk.utf8))
            // The server answers with an alert or nothing, and closes.
            let reply = client.receiveUntilClosed()
            #expect(reply.closed)
            #expect(!reply.bytes.elementsEqual(junk.utf8))
            let result = try tlsExchange([Array("after".utf8)], with: address, backend: backend, tls: try clientTLS())
            #expect(result.failure == nil)
        }
    }

    /// A client context offers the session its last connection got; the server resumes
    /// it (no full handshake), and both ends say so.
    @Test(arguments: IOBackend.allCases)
    func aSecondConnectionResumesTheSession(backend: IOBackend) throws {
        try requireUsable(backend)
        let client = try clientTLS()
        try withTLSEchoServer(backend: backend, tls: try serverTLS()) { address, _ in
            var resumed: [Bool] = []
            for _ in 0..<3 {
                let loop = try EventLoop(backend: backend)
                var details: TLSDetails?
                let exchange = EchoExchange(messages: [Array("again".utf8)]) { exchange, event in
                    if case .closed = event { loop.stop() }
                }
                let watcher = DetailsWatcher(exchange) { details = $0 }
                try Connection.connect(to: address, on: loop, options: ConnectOptions(tls: client), handler: watcher)
                loop.run()
                #expect(exchange.failure == nil)
                resumed.append(details?.isResumed ?? false)
            }
            #expect(resumed == [false, true, true])
        }
    }

    /// The async API over TLS: requests and answers, then a graceful stop that the
    /// client reads as the end of the stream.
    @Test(arguments: IOBackend.allCases)
    func asyncServerAndClient(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 2, backend: backend)
        let server = try await AsyncServer.start(
            group: group, address: .loopback(port: 0), options: ServerOptions(tls: try serverTLS()))
        let running = Task { await server.run(AsyncServerTests.upperCaser()) }
        let client = try await AsyncConnection.connect(
            to: server.address, on: group.next(), options: ConnectOptions(tls: try clientTLS()))
        for line in 0..<20 {
            let answer = try await client.request(Array("line \(line)\n".utf8), framing: LineFraming())
            #expect(answer == Array("LINE \(line)\n".utf8))
        }
        running.cancel()
        #expect(try await client.receive() == nil)
        await client.close()
        await running.value
        #expect(await group.counters().tlsHandshakes == 2)
        await group.shutdown()
    }

    /// A handshake that never completes (a client that connects and says nothing, or
    /// trickles) is closed at the handshake timeout.
    @Test func aStalledHandshakeIsClosedAtTheTimeout() throws {
        try withTLSEchoServer(backend: .shim, tls: try serverTLS(), handshakeTimeout: .milliseconds(300)) { address, _ in
            let client = try BlockingClient(port: address.port)
            client.send([0x16, 0x03, 0x01])  // the start of a record, and no more
            let reply = client.receiveUntilClosed()
            #expect(reply.closed)
            #expect(reply.bytes.isEmpty)
        }
    }
}

/// Passes every event on to an echo exchange, and hands over what TLS negotiated once
/// the connection has opened.
final class DetailsWatcher: ConnectionHandler {
    let inner: EchoExchange
    let onDetails: (TLSDetails?) -> Void

    init(_ inner: EchoExchange, onDetails: @escaping (TLSDetails?) -> Void) {
        self.inner = inner
        self.onDetails = onDetails
    }

    func connectionDidOpen(_ connection: Connection) {
        onDetails(connection.tlsDetails)
        inner.connectionDidOpen(connection)
    }
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        inner.connection(connection, didReceive: bytes)
    }
    func connectionDidReachEnd(_ connection: Connection) { inner.connectionDidReachEnd(connection) }
    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        inner.connectionDidClose(connection, error: error)
    }
}
