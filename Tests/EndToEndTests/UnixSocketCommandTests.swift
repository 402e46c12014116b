import ConduitTestSupport
import Foundation
import Testing

@Suite("Unix domain sockets and socket activation in the CLI, as a user runs them")
struct UnixSocketCommandTests {
    static let backends = commandBackends

    @Test(arguments: backends)
    func appServerAndClientOverAUnixSocket(backend: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("app.sock")
        let server = try ChildProcess(["app-server", "--unix", path, "--threads", "2", "--backend", backend])
        #expect(server.waitForOutput(containing: "Listening on unix:\(path)\n"), "\(server.stderr)")
        let search = try runConduit(["app-client", "--unix", path, "search", "morpheus", "--backend", backend])
        #expect(search.status == 0, "\(search.stderr)")
        #expect(search.stdout == """
            Starting connection to unix:\(path)
            Got result: Follow the white rabbit. 🐰
            Closing connection to unix:\(path)

            """)
        let binary = try runConduit(["app-client", "--unix", path, "binary", "😃", "--backend", backend])
        #expect(binary.stdout.contains(#"Got response: b'First 10 bytes of request: binary\xf0\x9f\x98\x83'"#))
        let many = try runConduit([
            "app-client", "--unix", path, "search", "ring", "--repeat", "500", "--pipeline", "8", "--log-level", "warning",
        ])
        #expect(many.status == 0 && many.stdout.contains("500 responses in "), "\(many.stderr)")
        server.signal(SIGTERM)
        let served = server.finish(seconds: 10)
        #expect(served.status == 0, "\(served.stderr)")
        // Clients have no path: the log names each by its process.
        #expect(served.stdout.contains("Accepted connection from unix:(unnamed) pid "))
        #expect(!fileExists(path), "the socket file outlived the server")
    }

    /// A live server's path is refused with one line; a dead one's stale file is
    /// replaced.
    @Test func livePathRefusedStaleFileReplaced() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("app.sock")
        let first = try ChildProcess(["app-server", "--unix", path, "--log-level", "error"])
        #expect(first.waitForOutput(containing: "Listening on unix:"))
        let second = try runConduit(["app-server", "--unix", path], seconds: 10)
        #expect(second.status == 1)
        #expect(second.stderr == "conduit: cannot listen on unix:\(path): a server is already listening there\n")
        first.signal(SIGKILL)
        first.finish(seconds: 10)
        #expect(fileExists(path))
        let third = try ChildProcess(["app-server", "--unix", path, "--log-level", "error"])
        #expect(third.waitForOutput(containing: "Listening on unix:\(path)"), "\(third.stderr)")
        let search = try runConduit(["app-client", "--unix", path, "search", "xyz"])
        #expect(search.stdout.contains("Got result: No match for 'xyz'."))
        third.signal(SIGINT)
        #expect(third.finish(seconds: 10).status == 0)
        #expect(!fileExists(path))
    }

    @Test(arguments: backends)
    func loadAgainstAnEmbeddedServerOnAUnixSocket(backend: String) throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-load-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let result = try runConduit([
            "load", "--embedded-unix", "--duration", "1s", "--connections", "20", "--pipeline", "2",
            "--server-threads", "2", "--backend", backend, "--quiet", "--json", json.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("target: embedded server at unix:/tmp/conduit-load-"))
        #expect(result.stdout.contains("errors: 0"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        #expect(object["error_count"] as? Int == 0)
        #expect(object["connections_up"] as? Int == 20)
        #expect((object["requests"] as? Int ?? 0) > 0)
        // The temporary directory went with the embedded server.
        let target = try #require(object["target"] as? String)
        #expect(!fileExists(String(target.dropFirst("unix:".count))))
    }

    /// `load --unix PATH` against a running server, with worker processes too.
    @Test func loadAgainstARunningServerOnAUnixSocket() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("app.sock")
        let server = try ChildProcess(["app-server", "--unix", path, "--threads", "2", "--log-level", "error"])
        #expect(server.waitForOutput(containing: "Listening on unix:"))
        for processes in ["1", "2"] {
            let result = try runConduit([
                "load", "--unix", path, "--duration", "1s", "--connections", "40", "--workload", "binary", "--size", "200",
                "--processes", processes, "--quiet",
            ])
            #expect(result.status == 0, "\(processes) processes: \(result.stderr)")
            #expect(result.stdout.contains("target: unix:\(path)"), "\(result.stdout)")
            #expect(result.stdout.contains("errors: 0"), "\(result.stdout)")
        }
        let missing = try runConduit(["load", "--unix", directory.file("none.sock"), "--duration", "1s", "--quiet"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("conduit: no socket at unix:\(directory.file("none.sock")): is a server listening there?"))
        server.signal(SIGTERM)
        #expect(server.finish(seconds: 10).status == 0)
    }

    @Test func echoProgramsOverAUnixSocket() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("echo.sock")
        let multi = try ChildProcess(["multiconn-server", "--unix", path, "--threads", "2"])
        #expect(multi.waitForOutput(containing: "Listening on unix:\(path)"))
        let client = try runConduit(["multiconn-client", "--unix", path, "50", "--quiet"])
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout.contains("50 of 50 connections echoed"))
        multi.signal(SIGTERM)
        #expect(multi.finish(seconds: 10).status == 0)

        let echoPath = directory.file("one.sock")
        let server = try ChildProcess(["echo-server", "--unix", echoPath])
        // The echo server prints nothing until its one client: retry while no socket is there.
        let deadline = Date().addingTimeInterval(10)
        var echo = try runConduit(["echo-client", "--unix", echoPath, "over unix"])
        while echo.status != 0, Date() < deadline {
            usleep(20_000)
            echo = try runConduit(["echo-client", "--unix", echoPath, "over unix"])
        }
        #expect(echo.stdout == "Received b'over unix'\n", "\(echo.stderr)")
        let served = server.finish(seconds: 10)
        #expect(served.status == 0)
        #expect(served.stdout.hasPrefix("Connected by unix:(unnamed) pid "))
        #expect(!fileExists(echoPath))
    }

    /// systemd's socket activation: the listening socket arrives as descriptor 3.
    @Test(arguments: backends)
    func appServerServesASocketFromActivation(backend: String) throws {
        let server = try python(
            "systemd_activate.py",
            [conduitBinary.path, "app-server", "--listen-fd", "systemd", "--threads", "2", "--backend", backend])
        let port = String(try #require(server.listeningPort(), "\(server.stderr)"))
        let search = try runConduit(["app-client", "127.0.0.1", port, "search", "morpheus"])
        #expect(search.status == 0, "\(search.stderr)")
        #expect(search.stdout.contains("Got result: Follow the white rabbit. 🐰"))
        server.signal(SIGTERM)
        #expect(server.finish(seconds: 10).status == 0)
    }

    @Test func listenFdFailuresAreOneLine() throws {
        let notActivated = try runConduit(["app-server", "--listen-fd", "systemd"], seconds: 10)
        #expect(notActivated.status == 1)
        #expect(notActivated.stderr == "conduit: --listen-fd systemd: LISTEN_FDS is not set (was this started by socket activation?)\n")
        let notASocket = try runConduit(["multiconn-server", "--listen-fd", "0"], seconds: 10)
        #expect(notASocket.status == 1)
        #expect(notASocket.stderr.hasPrefix("conduit: cannot serve listening descriptor 0: "), "\(notASocket.stderr)")
    }
}

extension UnixSocketCommandTests {
    /// The socket file's mode followed the umask alone (0777 under umask 000: anyone on
    /// the machine could connect); `--unix-mode` sets it before the server listens.
    @Test func theSocketFileModeCanBeSet() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        for (mode, expected) in [(nil, 0o777), ("600", 0o600), ("0o660", 0o660)] as [(String?, Int)] {
            let path = directory.file("mode.sock")
            let flags = mode.map { ["--unix-mode", $0] } ?? []
            let command = (["umask 000; exec", conduitBinary.path, "multiconn-server", "--unix", path, "--quiet"] + flags)
                .joined(separator: " ")
            let server = try ChildProcess(executable: URL(fileURLWithPath: "/bin/sh"), ["-c", command])
            #expect(server.waitForOutput(containing: "Listening on unix:"), "\(server.stderr)")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == expected, "--unix-mode \(mode ?? "(none)")")
            server.signal(SIGTERM)
            #expect(server.finish(seconds: 10).status == 0)
        }
        let wrong = try runConduit(["multiconn-server", "--unix", directory.file("x.sock"), "--unix-mode", "999"])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("--unix-mode must be octal permissions from 0 to 777 (got 999)"), "\(wrong.stderr)")
    }
}
