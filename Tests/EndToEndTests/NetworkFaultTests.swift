import Foundation
import Testing

/// True when this machine lets us create network namespaces (root, or CAP_NET_ADMIN,
/// and iproute2 and nftables installed).
let namespacesAllowed: Bool = {
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") || FileManager.default.isExecutableFile(atPath: "/sbin/nft"),
        let probe = try? ChildProcess(executable: URL(fileURLWithPath: "/usr/bin/env"), ["unshare", "--net", "true"])
    else { return false }
    return probe.finish(seconds: 10).status == 0
}()

@Suite("Packet loss and bandwidth limits in a private network namespace")
struct NetworkFaultTests {
    @Test(.enabled(if: namespacesAllowed, "network namespaces (or nft) are not available here: skipped"))
    func lossAndBandwidthLimitsLoseNothing() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Faults/netns-faults.sh")
        let run = try ChildProcess(executable: URL(fileURLWithPath: "/bin/bash"), [script.path, conduitBinary.path, "2"])
            .finish(seconds: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let byScenario = Dictionary(uniqueKeysWithValues: lines.map { ($0["scenario"] as? String ?? "", $0) })
        let drop = try #require(byScenario["drop"], "\(run.stdout)")
        // TCP retransmitted around every dropped packet: nothing lost, nothing wrong.
        #expect((drop["dropped_packets"] as? Int ?? 0) > 0, "the rule dropped nothing: \(drop)")
        #expect(drop["errors"] as? Int == 0, "\(drop)")
        #expect((drop["requests"] as? Int ?? 0) > 0)
        #expect(drop["requests"] as? Int == drop["sent"] as? Int)
        let bandwidth = try #require(byScenario["bandwidth"])
        #expect(bandwidth["errors"] as? Int == 0, "\(bandwidth)")
        // 8 Mbit/s carries about 240 round trips/s of ~4.3 KB each way; the limit held.
        let rate = bandwidth["requests_per_second"] as? Double ?? 0
        #expect(rate > 20 && rate < 400, "\(bandwidth)")
        #expect(byScenario["after"]?["served"] as? Bool == true)
    }
}
