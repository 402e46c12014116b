import Conduit
import ConduitMessage

/// A client connection that sends the same request `count` times, keeping up to
/// `pipeline` requests in flight, decodes every response in order and closes once
/// all have come back (or at the first error).
public final class AppClientSession: ConnectionHandler {
    /// The encoded request.
    public let request: [UInt8]
    /// How many times to send it.
    public let count: Int
    /// Requests in flight at most (1 = wait for each response before the next).
    public let pipeline: Int
    /// Responses received, in order.
    public private(set) var responses: [Response] = []
    /// Why the session failed, if it did.
    public private(set) var failure: AppClientFailure?
    private var sent = 0
    private var opened = false
    private var decoder: MessageDecoder
    private let onEvent: (AppClientEvent) -> Void

    /// A session for `request`; `onEvent` hears each step (on the loop thread).
    public init(
        request: [UInt8], count: Int = 1, pipeline: Int = 1, limits: MessageLimits = MessageLimits(),
        onEvent: @escaping (AppClientEvent) -> Void = { _ in }
    ) {
        self.request = request
        self.count = max(count, 1)
        self.pipeline = max(pipeline, 1)
        self.decoder = MessageDecoder(limits: limits)
        self.onEvent = onEvent
    }

    /// True when every response arrived and none failed.
    public var succeeded: Bool { failure == nil && responses.count == count }

    /// Sends the first window of requests.
    public func connectionDidOpen(_ connection: Connection) {
        opened = true
        onEvent(.connected)
        sendMore(on: connection)
    }

    private func sendMore(on connection: Connection) {
        while sent < count && sent - responses.count < pipeline {
            onEvent(.sending(request))
            connection.write(request)
            sent += 1
        }
    }

    /// Decodes responses; sends more requests as responses free the window.
    public func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        do throws(MessageError) {
            let used = try decoder.decode(bytes) { message in
                do throws(MessageError) {
                    let response = try Response.decode(message)
                    responses.append(response)
                    onEvent(.received(response))
                    return true
                } catch {
                    failure = .protocolError(error)
                    return false
                }
            }
            if failure != nil || responses.count >= count {
                connection.close()
            } else {
                sendMore(on: connection)
            }
            return used
        } catch {
            failure = .protocolError(error)
            connection.close()
            return bytes.count
        }
    }

    /// The server closed: a failure if responses are missing.
    public func connectionDidReachEnd(_ connection: Connection) {
        if failure == nil && responses.count < count {
            failure = .closedEarly(responses: responses.count, expected: count)
        }
        connection.close()
    }

    /// Records a socket error. A reset after the connection was up means the server
    /// went away (it closed with our next request unread), said the same way as a close.
    public func connectionDidClose(_ connection: Connection, error: SocketError?) {
        if let error, failure == nil {
            if !opened {
                failure = .connect(error)
            } else if error.kind == .connectionReset && responses.count < count {
                failure = .closedEarly(responses: responses.count, expected: count)
            } else {
                failure = .socket(error)
            }
        }
        onEvent(.closed)
    }
}

/// A step of an `AppClientSession`, for output.
public enum AppClientEvent {
    /// The connection is up.
    case connected
    /// A request is being sent.
    case sending([UInt8])
    /// A response arrived.
    case received(Response)
    /// The connection closed.
    case closed
}

/// Why an application client session failed.
public enum AppClientFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection could not be made (refused, unreachable, …).
    case connect(SocketError)
    /// The socket failed once connected (reset, …).
    case socket(SocketError)
    /// The server closed before every response came.
    case closedEarly(responses: Int, expected: Int)
    /// A response was malformed.
    case protocolError(MessageError)

    /// One line for the user.
    public var description: String {
        switch self {
        case .connect(let error), .socket(let error): return error.description
        case .closedEarly(let responses, let expected):
            return "server closed the connection after \(responses) of \(expected) responses"
        case .protocolError(let error): return "bad response: \(error)"
        }
    }
}
