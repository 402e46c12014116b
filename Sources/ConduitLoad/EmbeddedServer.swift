import Conduit
import ConduitTutorial
import ConduitApp

/// The server `conduit load` starts in its own process when no target is given: an
/// app server (or an echo server for the echo workload) on its own loop threads, on
/// an ephemeral loopback port.
final class EmbeddedServer {
    let group: EventLoopGroup
    let address: SocketAddress
    private let stop: () -> Void

    init(workload: Workload, threads: Int, backend: IOBackend) throws(SocketError) {
        group = try EventLoopGroup(threads: threads, backend: backend)
        do {
            if workload == .echo {
                let server = try Server(group: group, address: .loopback(port: 0)) { _ in EchoHandler() }
                address = server.address
                stop = { server.syncStopAccepting() }
            } else {
                let server = try AppServer(group: group, address: .loopback(port: 0))
                address = server.address
                stop = { server.server.syncStopAccepting() }
            }
        } catch {
            group.syncShutdown()
            throw error
        }
    }

    func shutdown() {
        stop()
        group.syncShutdown()
    }
}
