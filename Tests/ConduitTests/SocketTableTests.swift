import Conduit
import ConduitTestSupport
import ConduitTutorial
import Testing

@Suite("Socket table (/proc/net/tcp)")
struct SocketTableTests {
    static let tcp4 = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:FF98 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
           1: 0100007F:FF98 0100007F:D0A9 01 00000000:00063AEC 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
           2: 0100007F:D0A9 0100007F:FF98 01 00041E2C:00000000 01:00000014 00000000     0        0 3 1 0 20 4 30 10 -1
        """
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9 1 0 100 0 0 10 0
        """

    @Test func parsesIPv4LikeNetstat() {
        let entries = SocketTable.parse(Self.tcp4, proto: "tcp4")
        #expect(entries.count == 3)
        #expect(entries[0].proto == "tcp4")
        #expect(entries[0].local == "127.0.0.1:65432")
        #expect(entries[0].remote == "*:*")
        #expect(entries[0].localPort == 65432)
        #expect(entries[0].state == "LISTEN")
        #expect(entries[0].receiveQueue == 0 && entries[0].sendQueue == 0)
        #expect(entries[1].receiveQueue == 408_300)
        #expect(entries[1].remote == "127.0.0.1:53417")
        #expect(entries[2].sendQueue == 269_868)
        #expect(entries[2].state == "ESTABLISHED")
    }

    @Test func parsesIPv6() {
        let entries = SocketTable.parse(Self.tcp6, proto: "tcp6")
        #expect(entries.map(\.local) == ["[::1]:8080"])
        #expect(entries.first?.state == "LISTEN")
    }

    @Test(arguments: IOBackend.allCases)
    func aLiveListenerIsListed(backend: IOBackend) throws {
        try requireUsable(backend)
        try withEchoServer(backend: backend) { address in
            let listed = SocketTable.read().filter { $0.localPort == address.port && $0.state == "LISTEN" }
            #expect(listed.count == 1)
            #expect(listed.first?.local == "127.0.0.1:\(address.port)")
        }
    }

    @Test func formatLooksLikeNetstat() {
        let text = SocketTable.format(SocketTable.parse(Self.tcp4, proto: "tcp4"))
        #expect(text.hasPrefix("Proto Recv-Q Send-Q  Local Address"))
        #expect(text.contains("tcp4  408300      0  127.0.0.1:65432          127.0.0.1:53417          ESTABLISHED"))
    }
}
