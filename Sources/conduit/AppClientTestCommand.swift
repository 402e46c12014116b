import ArgumentParser
import Conduit
import ConduitTutorial
import ConduitApp
import Glibc

/// `conduit app-client-test`: sends the same request until the socket would block,
/// then shows the error and the kernel's queue sizes (the tutorial's test client).
struct AppClientTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-client-test",
        abstract: "Test client: send requests without reading until the socket buffers fill; show EAGAIN and the queues.",
        discussion: "Run against app-server-test, then look at both ends with 'conduit stat --port PORT'."
    )

    @Argument(help: "Server address.") var host: String
    @Argument(help: "Server port.") var port: Int
    @Argument(help: "Action: 'search' or anything else for binary.") var action: String
    @Argument(help: "Value.") var value: String
    @Option(help: "Times to try again after the first EAGAIN, one second apart.") var retries = 4
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validatePort(port, "PORT", allowZero: false)
        guard retries >= 0 else { throw ValidationError("--retries must not be negative") }
    }

    func run() throws {
        let address = try resolve(host: host, port: port)
        let socket: ClientSocket
        do {
            socket = try ClientSocket(connectingTo: address, backend: common.backend)
        } catch {
            throw fail(connectFailure(error, to: address))
        }
        defer { socket.close() }
        let request = AppRequest(action: action, value: value).encoded()
        let local = socket.localAddress?.description ?? "?"
        say("Sending \(bytesLiteral(request, limit: 80)) repeatedly from \(local) to \(address)")
        var total = 0
        var offset = 0
        for attempt in 0...retries {
            if attempt > 0 { sleep(1) }
            // Send until the kernel refuses: the peer never reads, so both buffers fill.
            while true {
                let outcome: ClientSocket.SendOutcome
                do {
                    outcome = try request.withUnsafeBytes { try socket.trySend(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
                } catch {
                    throw fail("send to \(address) failed: \((error as? SocketError)?.reason ?? "\(error)")")
                }
                guard case .sent(let count) = outcome else { break }
                total += count
                offset = (offset + count) % request.count
            }
            let queues = socket.queueSizes()
            say("Error: send() would block on \(address) after \(total) bytes: EAGAIN (errno \(EAGAIN)), Resource temporarily unavailable")
            say("  kernel queues of \(local): Send-Q \(queues.send) bytes, Recv-Q \(queues.receive) bytes")
        }
    }
}
