import Conduit
import ConduitTestSupport
import ConduitTutorial
import Glibc
import Testing

@Suite("A listener that stops accepting lets go of its port")
struct ListenerCloseTests {
    /// With the ring, an armed multishot accept holds the listening socket open: closing
    /// the descriptor alone would leave the port taken until the loop ends. Checked while
    /// the server's loop still runs, by binding the port without `SO_REUSEPORT`.
    @Test(arguments: IOBackend.allCases)
    func portIsFreeAfterStopAccepting(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await Server.start(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
        let port = server.address.port
        #expect(bindResult(port: port) == EADDRINUSE, "the port must be taken while the server listens")
        await server.stopAccepting()
        #expect(bindResult(port: port) == 0, "\(backend): port \(port) still taken after stopAccepting")
        await group.shutdown()
    }
}

/// 0 when a fresh TCP socket can bind 127.0.0.1:`port` (and listen), else the errno.
private func bindResult(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return errno }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 1) == 0 else { return errno }
    return 0
}
