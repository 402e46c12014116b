import Conduit
import ConduitTutorial
import ConduitApp
import Glibc

/// The server `conduit load` starts in its own process when no target is given: an
/// app server (or an echo server for the echo workload) on its own loop threads, on
/// an ephemeral loopback port, or on a Unix socket in a fresh temporary directory.
final class EmbeddedServer {
    let group: EventLoopGroup
    let address: SocketAddress
    private let stop: () -> Void
    /// The temporary directory holding the Unix socket, removed at shutdown.
    private let directory: String?

    init(
        workload: Workload, threads: Int, backend: IOBackend, unixSocket: Bool = false, tls: TLSContext? = nil
    ) throws(SocketError) {
        let options = ServerOptions(tls: tls)
        group = try EventLoopGroup(threads: threads, backend: backend)
        var directory: String?
        do throws(SocketError) {
            var listenOn = SocketAddress.loopback(port: 0)
            if unixSocket {
                // A directory of our own: no other process can have put anything at the path.
                let made = try Self.makeTemporaryDirectory()
                directory = made
                do throws(AddressError) {
                    listenOn = try .unix(path: made + "/server.sock")
                } catch {
                    throw SocketError(code: ENAMETOOLONG, operation: "\(error)")
                }
            }
            if workload == .echo {
                let server = try Server(group: group, address: listenOn, options: options) { _ in EchoHandler() }
                address = server.address
                stop = { server.syncStopAccepting() }
            } else {
                let server = try AppServer(group: group, address: listenOn, options: options)
                address = server.address
                stop = { server.server.syncStopAccepting() }
            }
        } catch {
            group.syncShutdown()
            if let directory { rmdir(directory) }
            throw error
        }
        self.directory = directory
    }

    func shutdown() {
        // Stopping removes the socket file; the directory is then empty.
        stop()
        group.syncShutdown()
        if let directory { rmdir(directory) }
    }

    private static func makeTemporaryDirectory() throws(SocketError) -> String {
        var template = Array("/tmp/conduit-load-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw SocketError(code: errno, operation: "mkdtemp /tmp/conduit-load-XXXXXX")
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
