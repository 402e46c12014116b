import Foundation
import Testing

@Suite("Usage errors and help, in every subcommand")
struct UsageTests {
    /// Each is a usage error: exit 64 (EX_USAGE) with the usage line, before anything runs.
    static let usageErrors: [(arguments: [String], mentions: String)] = [
        (["load", "--connections", "0"], "--connections"),
        (["load", "--duration", "0s"], "--duration"),
        (["load", "--pipeline", "0"], "--pipeline"),
        (["load", "--threads", "0"], "--threads"),
        (["load", "--server-threads", "0"], "--server-threads"),
        (["load", "--rate", "0"], "--rate"),
        (["load", "--connect-rate", "0"], "--connect-rate"),
        (["load", "--size", "0", "--workload", "echo"], "--size"),
        (["load", "--size", "100"], "--size"),
        (["load", "--source-addresses", "0"], "--source-addresses"),
        (["load", "--source-addresses", "2", "--target", "[::1]:80"], "--source-addresses"),
        (["load", "--processes", "0"], "--processes"),
        (["load", "--processes", "3", "--connections", "2"], "--processes"),
        (["load", "--target", "127.0.0.1:70000"], "--target"),
        (["app-client", "127.0.0.1", "70000", "search", "x"], "port"),
        (["app-client", "127.0.0.1", "0", "search", "x"], "port"),
        (["app-client-test", "127.0.0.1", "1", "x", "y", "--retries=-1"], "--retries"),
        (["echo-client", "127.0.0.1", "0"], "port"),
        (["echo-server", "127.0.0.1", "65536"], "port"),
        (["multiconn-server", "127.0.0.1", "0", "--threads", "0"], "--threads"),
        (["multiconn-client", "127.0.0.1", "99999", "2"], "port"),
        (["app-server", "127.0.0.1", "65536"], "port"),
        (["app-server", "127.0.0.1", "0", "--threads", "0"], "--threads"),
        (["app-server-test", "127.0.0.1", "70000"], "port"),
        (["stat", "--state", "sleepy"], "--state"),
        (["stat", "--port", "70000"], "--port"),
        (["stat", "--watch", "--count", "0"], "--count"),
    ]

    @Test(arguments: usageErrors)
    func invalidValuesAreUsageErrors(arguments: [String], mentions: String) throws {
        let result = try runConduit(arguments, seconds: 10)
        #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(mentions), "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("Usage: conduit \(arguments[0])"), "\(result.stderr)")
    }

    /// Defaults read as a user would type them.
    @Test func loadHelpShowsPlainDefaults() throws {
        let help = try runConduit(["load", "--help"])
        #expect(help.status == 0)
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(!text.contains("Count("), "\(help.stdout)")
        #expect(text.contains("Concurrent connections (k suffix accepted). (default: 50)"), "\(help.stdout)")
        #expect(text.contains("(default: 5s)"))
        #expect(text.contains("(default: 2s)"))
        let server = try runConduit(["app-server", "--help"])
        let serverText = server.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(serverText.contains("(default: 10s)") && serverText.contains("(default: 300s)"), "\(server.stdout)")
    }
}
