import Foundation
import Glibc
import Testing

/// Real servers from Debian's packages (redis-server, memcached) started by a test on a
/// free loopback port, and ended by their PID. `.ci/run` installs them and sets
/// CONDUIT_REQUIRE_SERVICES, which turns a missing one into a failure; elsewhere the
/// test that needs it is cancelled, saying so.
enum ThirdPartyServers {
    /// The absolute path of `name` on PATH, or nil.
    static func which(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The path of `name`, or the test is cancelled (failed when CI requires it).
    static func require(_ name: String, package: String) throws -> String {
        if let path = which(name) { return path }
        let note = "\(name) is not installed (Debian package \(package)); .ci/run installs it"
        if ProcessInfo.processInfo.environment["CONDUIT_REQUIRE_SERVICES"] != nil {
            Issue.record(Comment(rawValue: note))
        }
        try Test.cancel(Comment(rawValue: note))
    }

    /// True once something accepts TCP connections on 127.0.0.1:`port`, within `seconds`.
    static func waitUntilConnectable(port: Int, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(descriptor)
            if connected { return true }
            usleep(20_000)
        }
        return false
    }

    /// Starts `executable arguments…` with no signal blocked: a test's threads block
    /// nearly every signal, and a child inherits its spawning thread's mask, so SIGTERM
    /// never reached redis-server or memcached (Conduit's own processes read theirs
    /// through a signalfd and are unaffected). Python clears the mask, then execs.
    static func startUnmasked(_ executable: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(executable: pythonInterpreter, [
            "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
            executable,
        ] + arguments)
    }

    /// redis-server on a free loopback port, nothing saved to disk.
    static func redis() throws -> (ChildProcess, Int) {
        let binary = try require("redis-server", package: "redis-server")
        let port = freePort()
        let server = try startUnmasked(
            binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"])
        guard waitUntilConnectable(port: port) else {
            server.signal(SIGTERM)
            throw ServiceDidNotStart(name: "redis-server", output: server.finish(seconds: 5).stdout)
        }
        return (server, port)
    }

    /// memcached on a free loopback port (text and binary protocols).
    static func memcached() throws -> (ChildProcess, Int) {
        let binary = try require("memcached", package: "memcached")
        let port = freePort()
        let server = try startUnmasked(binary, ["-p", String(port), "-U", "0", "-l", "127.0.0.1", "-u", "root"])
        guard waitUntilConnectable(port: port) else {
            server.signal(SIGTERM)
            throw ServiceDidNotStart(name: "memcached", output: server.finish(seconds: 5).stderr)
        }
        return (server, port)
    }

    /// A counter from redis's `INFO commandstats`: the calls of `command`.
    static func redisCalls(port: Int, _ command: String) throws -> Int {
        let cli = try require("redis-cli", package: "redis-tools")
        let info = try ChildProcess(
            executable: URL(fileURLWithPath: cli), ["-p", String(port), "INFO", "commandstats"]).finish(seconds: 10).stdout
        guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }) else { return 0 }
        let calls = line.split(separator: ",").first { $0.contains("calls=") }?.split(separator: "=").last
        return calls.flatMap { Int($0) } ?? 0
    }

    struct ServiceDidNotStart: Error, CustomStringConvertible {
        let name: String
        let output: String
        var description: String { "\(name) did not start listening: \(output.suffix(2000))" }
    }
}
