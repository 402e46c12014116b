import Foundation
import Testing

@Suite("One load test on four simulated hosts (network namespaces), merged")
struct NetworkHostsTests {
    /// deploy/netns/simulate.sh: four namespaces with their own addresses load a server
    /// in a fifth through a bridge, each its `--segment` of one test, all from one
    /// `--start-at`; `conduit load merge` then combines them.
    @Test(.enabled(if: namespacesAllowed, "network namespaces (or nft) are not available here: skipped"))
    func fourHostsAddUpToTheWholeTest() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/netns/simulate.sh")
        let run = try ChildProcess(executable: URL(fileURLWithPath: "/bin/bash"), [script.path, conduitBinary.path, "4", "202", "2"])
            .finish(seconds: 180)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        // The server had connections from every host, and from nothing else.
        #expect(report["peers"] as? [String] == ["10.77.0.11", "10.77.0.12", "10.77.0.13", "10.77.0.14"])
        let hosts = try #require(report["hosts"] as? [[String: Any]])
        // 202 over 4: the first two hosts take one more.
        #expect(hosts.map { $0["connections_up"] as? Int } == [51, 51, 50, 50])
        #expect(hosts.map { $0["segment"] as? String } == ["0/4", "1/4", "2/4", "3/4"])
        for host in hosts {
            #expect(host["error_count"] as? Int == 0, "\(host)")
            #expect((host["requests"] as? Int ?? 0) > 0)
            #expect(host["start_offset_ms"] != nil)
        }
        let merged = try #require(report["merged"] as? [String: Any])
        func sum(_ key: String) -> Int { hosts.reduce(0) { $0 + ($1[key] as? Int ?? 0) } }
        #expect(merged["connections"] as? Int == 202)
        #expect(merged["connections_up"] as? Int == 202)
        #expect(merged["requests"] as? Int == sum("requests"))
        #expect(merged["sent"] as? Int == sum("sent"))
        #expect(merged["count"] as? Int == sum("requests"))
        #expect(merged["error_count"] as? Int == 0)
    }
}
