import Conduit

/// The tutorial's multi-connection client: opens `count` connections at once
/// (non-blocking), each sends the same messages and closes when all its bytes are
/// echoed. Runs on one loop; `run` blocks the calling thread until every connection
/// has finished.
package final class MultiConnectionClient {
    /// Outcome of a run.
    package struct Summary: Sendable {
        /// Connections whose echo came back complete and byte-exact.
        package var succeeded = 0
        /// Failures, by connection number (1-based).
        package var failures: [(connection: Int, failure: EchoFailure)] = []
        /// Bytes echoed back in total.
        package var bytesEchoed = 0
    }

    private let address: SocketAddress
    private let count: Int
    private let messages: [[UInt8]]
    private let backend: IOBackend
    private let log: ((Int, EchoExchangeEvent) -> Void)?

    /// Prepares a run of `count` connections to `address`, each sending `messages`;
    /// `log` hears each connection's events (connection numbers start at 1).
    private let options: ConnectOptions

    package init(
        address: SocketAddress, count: Int, messages: [[UInt8]], backend: IOBackend,
        options: ConnectOptions = ConnectOptions(), log: ((Int, EchoExchangeEvent) -> Void)? = nil
    ) {
        self.options = options
        self.address = address
        self.count = count
        self.messages = messages
        self.backend = backend
        self.log = log
    }

    /// Runs every connection to completion on a loop driven by the calling thread.
    package func run() throws(SocketError) -> Summary {
        let loop = try EventLoop(backend: backend)
        var exchanges: [EchoExchange] = []
        var open = count
        for number in stride(from: 1, through: count, by: 1) {
            let exchange = EchoExchange(messages: messages) { [log] _, event in
                log?(number, event)
                if case .closed = event {
                    open -= 1
                    if open == 0 { loop.stop() }
                }
            }
            exchanges.append(exchange)
            log?(number, .connecting)
            _ = try Connection.connect(to: address, on: loop, options: options, handler: exchange)
        }
        if count > 0 { loop.run() }
        var summary = Summary()
        for (index, exchange) in exchanges.enumerated() {
            if exchange.succeeded {
                summary.succeeded += 1
            } else {
                summary.failures.append((index + 1, exchange.failure ?? .closedEarly(received: exchange.received.count, expected: exchange.expected.count)))
            }
            summary.bytesEchoed += exchange.received.count
        }
        return summary
    }

    /// The tutorial's messages (`Message 1 from client.` …), `count` of them; with
    /// `size`, each is padded with `.` (or cut) to exactly `size` bytes.
    package static func messages(count: Int, size: Int? = nil) -> [[UInt8]] {
        stride(from: 1, through: count, by: 1).map { index in
            var bytes = Array("Message \(index) from client.".utf8)
            if let size {
                if bytes.count > size { bytes.removeLast(bytes.count - size) }
                else { bytes.append(contentsOf: repeatElement(UInt8(ascii: "."), count: size - bytes.count)) }
            }
            return bytes
        }
    }
}
