import Foundation
import Glibc
import Testing

/// `conduit load` against real third-party servers: its counts must be theirs.
@Suite("conduit load against redis-server and memcached")
struct LoadServicesTests {
    static func temporaryFile(_ name: String, _ contents: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID())-\(name)")
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// 90 % GET, 10 % SET from a scenario file, pipelined: every answer is counted, and
    /// the total is redis's own count of the commands it ran.
    @Test func aRedisScenarioCountsWhatRedisCounts() throws {
        let (redis, port) = try ThirdPartyServers.redis()
        defer {
            redis.signal(SIGTERM)
            redis.finish(seconds: 10)
        }
        let scenario = try Self.temporaryFile("redis.json", #"""
            {"framing": "resp", "requests": [
              {"name": "GET", "weight": 90, "request": "*2\r\n$3\r\nGET\r\n${len:k+4}\r\nkey:{k=key:1-1000:zipf}\r\n"},
              {"name": "SET", "weight": 10,
               "request": "*3\r\n$3\r\nSET\r\n${len:k+4}\r\nkey:{k=key:1-1000}\r\n${len:v}\r\n{v=random:16}\r\n",
               "expect": {"exact": "+OK\\r\\n"}}
            ]}
            """#)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID()).json")
        defer {
            try? FileManager.default.removeItem(at: scenario)
            try? FileManager.default.removeItem(at: output)
        }
        let run = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--scenario", scenario.path, "--duration", "1s",
            "--connections", "20", "--pipeline", "4", "--json", output.path, "--quiet",
        ])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("scenario: RESPFraming: GET 90%, SET 10%"), "\(run.stdout)")
        let summary = try Self.json(output)
        let requests = try #require(summary["requests"] as? Int)
        #expect(requests > 1000)
        #expect(summary["sent"] as? Int == requests)
        #expect(summary["error_count"] as? Int == 0)
        let gets = try ThirdPartyServers.redisCalls(port: port, "get")
        let sets = try ThirdPartyServers.redisCalls(port: port, "set")
        #expect(gets + sets == requests, "redis ran \(gets) GET and \(sets) SET; conduit counted \(requests)")
        // The weights hold: about one SET in ten.
        #expect(sets > requests / 20 && sets < requests / 5, "\(sets) of \(requests)")
    }

    /// A command redis refuses answers with a RESP error: each one is an error.
    @Test func aRedisErrorAnswerIsAnError() throws {
        let (redis, port) = try ThirdPartyServers.redis()
        defer {
            redis.signal(SIGTERM)
            redis.finish(seconds: 10)
        }
        let ping = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--framing", "resp", "--request", "*1\\r\\n$4\\r\\nPING\\r\\n",
            "--expect", "+PONG\\r\\n", "--duration", "500ms", "--connections", "4", "--quiet",
        ])
        #expect(ping.status == 0, "\(ping.stdout)\n\(ping.stderr)")
        #expect(ping.stdout.contains("errors: 0"))
        let refused = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--framing", "resp", "--request", "*1\\r\\n$7\\r\\nNOTACMD\\r\\n",
            "--duration", "300ms", "--connections", "3", "--quiet",
        ])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("3  RESP error answer"), "\(refused.stdout)")
    }

    /// memcached's binary protocol: a GET whose key length and body length are fields
    /// of the 24-byte header, framed by the body length at offset 8. Every GET misses
    /// (nothing was set): a well-framed answer all the same, and memcached counts them.
    @Test func memcachedBinaryGets() throws {
        let (memcached, port) = try ThirdPartyServers.memcached()
        defer {
            memcached.signal(SIGTERM)
            memcached.finish(seconds: 10)
        }
        let get = #"\x80\x00{len16be:k}\x00\x00\x00\x00{len32be:k}\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00{k=key:1-100000}"#
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: output) }
        let run = try runConduit([
            "load", "--target", "127.0.0.1:\(port)", "--framing", "length:4,offset=8,adjust=12", "--request", get,
            "--expect-prefix", "\\x81\\x00", "--duration", "1s", "--connections", "10", "--json", output.path, "--quiet",
        ])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let requests = try #require(try Self.json(output)["requests"] as? Int)
        #expect(requests > 1000)
        let stats = try python3(["-c", """
            import socket
            s = socket.create_connection(("127.0.0.1", \(port)))
            s.sendall(b"stats\\r\\n")
            data = b""
            while not data.endswith(b"END\\r\\n"):
                data += s.recv(65536)
            print(data.decode())
            """]).finish(seconds: 10).stdout
        let misses = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("STAT get_misses ") }?.split(separator: " ").last
        #expect(misses.flatMap { Int($0) } == requests, "memcached: \(misses ?? "none"); conduit: \(requests)")
    }

    func python3(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(executable: pythonInterpreter, arguments)
    }
}
