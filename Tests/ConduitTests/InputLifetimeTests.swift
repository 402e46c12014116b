import Conduit
import ConduitTestSupport
import Dispatch
import Foundation
import Glibc
import Testing

/// The bytes a handler is given stay valid for its whole callback, even when it closes
/// or resets its connection inside it (the contract of `ConnectionHandler`).
@Suite("Input lifetime")
struct InputLifetimeTests {
    /// Input kept from earlier reads (here 1.5 MiB, in storage the buffer maps from the
    /// kernel) is offered from the connection's own buffer; closing inside the callback
    /// used to unmap that storage under the handler, which then crashed reading it.
    @Test(arguments: IOBackend.allCases, ["close", "reset"])
    func closingInsideTheCallbackKeepsTheBytesValid(backend: IOBackend, how: String) async throws {
        try requireUsable(backend)
        let name = backend.rawValue
        await #expect(processExitsWith: .success) { [name = name as String, how = how as String] in
            let group = try EventLoopGroup(threads: 1, backend: IOBackend(rawValue: name)!)
            let verdict = DispatchSemaphore(value: 0)
            let sent = payload(count: 2 << 20)
            let checker = KeptInputChecker(expected: sent, reset: how == "reset", done: verdict)
            let server = try await Server.start(group: group, address: .loopback(port: 0)) { _ in checker }
            let port = Int(server.address.port)
            onOwnThread {
                guard let client = try? BlockingClient(port: port) else { exit(3) }
                client.send(sent)
                _ = client.receiveUntilClosed()
            }
            guard verdict.wait(timeout: HangGuard.deadline()) == .success else { exit(2) }
            exit(checker.intact ? 0 : 1)
        }
    }
}

/// Keeps everything it is offered until 1.5 MiB are there, then closes (or resets) its
/// connection and only then reads every byte it was given, checking it.
final class KeptInputChecker: ConnectionHandler, @unchecked Sendable {
    let expected: [UInt8]
    let reset: Bool
    let done: DispatchSemaphore
    private(set) var intact = false

    init(expected: [UInt8], reset: Bool, done: DispatchSemaphore) {
        self.expected = expected
        self.reset = reset
        self.done = done
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        guard connection.isOpen, bytes.count >= 3 << 19 else { return 0 }
        if reset { connection.reset() } else { connection.close() }
        intact = bytes.elementsEqual(expected.prefix(bytes.count))
        done.signal()
        return bytes.count
    }
}
