import ConduitTestSupport
import Foundation
import Testing

/// What a server says when it starts, read as a newcomer reads it.
@Suite("Servers' start-up lines")
struct StartupLineTests {
    /// `''` is every IPv4 interface (0.0.0.0, as the tutorial's IPv4 sockets bind it),
    /// reachable on 127.0.0.1, and the help says so rather than "all interfaces".
    @Test func anEmptyHostIsEveryIPv4Interface() throws {
        let server = try ChildProcess(["multiconn-server", "", "0", "--quiet"])
        defer { server.signal(SIGKILL) }
        let port = try #require(server.listeningPort())
        #expect(server.stdout.contains("Listening on 0.0.0.0:\(port)"), "\(server.stdout)")
        let client = try runConduit(["echo-client", "127.0.0.1", String(port), "over IPv4"])
        #expect(client.stdout == "Received b'over IPv4'\n", "\(client.stdout) \(client.stderr)")
        let help = try runConduit(["multiconn-server", "--help"])
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("('' for all IPv4 interfaces, '::' for all IPv6)"), "\(help.stdout)")
    }

    /// `--backend auto` says which backend it chose; a named backend says nothing more.
    @Test func autoSaysWhichBackendItChose() throws {
        let auto = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", "auto"])
        defer { auto.signal(SIGKILL) }
        _ = try #require(auto.listeningPort())
        #expect(auto.waitForOutput(containing: "(chosen by --backend auto)"), "\(auto.stdout)")
        #expect(auto.stdout.contains("Backend: uring (chosen") || auto.stdout.contains("Backend: shim (chosen"), "\(auto.stdout)")
        let named = try ChildProcess(["multiconn-server", "127.0.0.1", "0", "--quiet", "--backend", "shim"])
        defer { named.signal(SIGKILL) }
        _ = try #require(named.listeningPort())
        named.signal(SIGTERM)
        #expect(!named.finish(seconds: 30).stdout.contains("Backend:"))
    }
}
