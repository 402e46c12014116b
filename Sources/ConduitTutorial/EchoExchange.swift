import Conduit

/// One client connection that sends a list of messages and waits until every byte has
/// come back, comparing the echo with what was sent. The tutorial's client stops after
/// a single `recv` (which may return only part of the echo); this one does not.
package final class EchoExchange: ConnectionHandler {
    /// The messages sent, in order, as soon as the connection is up.
    package let messages: [[UInt8]]
    /// Bytes expected back: all messages concatenated.
    package let expected: [UInt8]
    /// Bytes received so far.
    package private(set) var received: [UInt8] = []
    /// Why the exchange failed, if it did.
    package private(set) var failure: EchoFailure?
    /// True once every byte came back intact and the connection closed.
    package var succeeded: Bool { failure == nil && finished && received.count == expected.count }
    private var finished = false
    private var opened = false
    private let onEvent: (EchoExchange, EchoExchangeEvent) -> Void

    /// Creates an exchange for `messages`; `onEvent` hears about each step, on the loop.
    package init(messages: [[UInt8]], onEvent: @escaping (EchoExchange, EchoExchangeEvent) -> Void = { _, _ in }) {
        self.messages = messages
        self.expected = messages.flatMap { $0 }
        self.onEvent = onEvent
    }

    /// Sends every message.
    package func connectionDidOpen(_ connection: Connection) {
        opened = true
        onEvent(self, .connected)
        for message in messages {
            onEvent(self, .sending(message))
            connection.write(message)
        }
        if expected.isEmpty { connection.close() }
    }

    /// Collects the echo and checks it; closes once it is complete.
    package func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        let start = received.count
        received.append(contentsOf: bytes)
        onEvent(self, .received(Array(bytes)))
        if received.count > expected.count || !received[start...].elementsEqual(expected[start..<received.count]) {
            failure = .mismatch(at: firstDifference())
            connection.close()
        } else if received.count == expected.count {
            connection.close()
        }
        return bytes.count
    }

    /// The server closed before the whole echo came back.
    package func connectionDidReachEnd(_ connection: Connection) {
        if received.count < expected.count {
            failure = .closedEarly(received: received.count, expected: expected.count)
        }
        connection.close()
    }

    /// Records the outcome.
    package func connectionDidClose(_ connection: Connection, error: SocketError?) {
        finished = true
        if let error, failure == nil { failure = opened ? .socket(error) : .connect(error) }
        onEvent(self, .closed)
    }

    private func firstDifference() -> Int {
        zip(received, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? expected.count
    }
}

/// A step of an `EchoExchange`, for progress output.
package enum EchoExchangeEvent: Sendable {
    /// The connection is being opened.
    case connecting
    /// The connection is up.
    case connected
    /// A message is being sent.
    case sending([UInt8])
    /// Echoed bytes arrived.
    case received([UInt8])
    /// The connection closed.
    case closed
}

/// Why an echo exchange failed.
package enum EchoFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection could not be made (refused, unreachable, …).
    case connect(SocketError)
    /// The socket failed once connected (reset, …).
    case socket(SocketError)
    /// The server closed before all bytes came back.
    case closedEarly(received: Int, expected: Int)
    /// The echo differed from what was sent, first at this byte offset.
    case mismatch(at: Int)

    /// One line for the user.
    package var description: String {
        switch self {
        case .connect(let error), .socket(let error): return error.description
        case .closedEarly(let received, let expected): return "server closed after \(received) of \(expected) bytes"
        case .mismatch(let offset): return "echo differs from what was sent at byte \(offset)"
        }
    }
}
