import Conduit
import ConduitMessage

/// Serves the application protocol on one connection: decodes requests in place,
/// answers each in order (pipelined requests included) through the router, and on a
/// protocol error sends one `Error: …` response, ends its side of the connection and
/// drains the peer's input for a moment before closing (so no reset destroys the answer).
final class AppConnectionHandler: ConnectionHandler {
    private var decoder: MessageDecoder
    private let service: LoopService
    private let headerTimeout: Duration
    private var failed = false

    init(service: LoopService, limits: MessageLimits, headerTimeout: Duration) {
        self.service = service
        self.decoder = MessageDecoder(limits: limits)
        self.headerTimeout = headerTimeout
    }

    func connectionDidOpen(_ connection: Connection) {
        service.log(.info, "Accepted connection from \(peer(connection))")
        // The header clock starts at once: a peer that never sends a byte is as slow a
        // header as one that sends a byte a minute.
        if headerTimeout > .zero { connection.setDeadline(after: headerTimeout) }
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        guard !failed else { return bytes.count }
        var routingError: MessageError?
        let service = self.service
        let consumed: Int
        do throws(MessageError) {
            consumed = try decoder.decode(bytes) { message in
                do throws(MessageError) {
                    let response = try service.router.route(message)
                    logRequest(message, connection)
                    service.send(response, on: connection)
                    return connection.isOpen
                } catch {
                    routingError = error
                    return false
                }
            }
        } catch {
            reject(error, on: connection)
            return bytes.count
        }
        if let routingError {
            reject(routingError, on: connection)
            return bytes.count
        }
        trackHeaderDeadline(incomplete: consumed < bytes.count, connection)
        return consumed
    }

    /// Starts the header clock when a header is incomplete; stops it once the header
    /// is in (content may then take as long as the idle timeout allows).
    private func trackHeaderDeadline(incomplete: Bool, _ connection: Connection) {
        guard headerTimeout > .zero else { return }
        if incomplete && !decoder.isAwaitingContent {
            if !connection.hasDeadline { connection.setDeadline(after: headerTimeout) }
        } else {
            connection.clearDeadline()
        }
    }

    /// A peer trickled a header for longer than the header timeout (slowloris).
    func connectionDeadlinePassed(_ connection: Connection) {
        let (whole, fraction) = headerTimeout.components
        let seconds = Double(whole) + Double(fraction) / 1e18
        let text = fraction == 0 ? String(whole) : String(seconds)
        service.log(.warning, "Header timeout for \(peer(connection)); closing")
        failAndLinger(with: .error("request header not complete within \(text) s"), on: connection)
    }

    func connectionDidIdle(_ connection: Connection) {
        service.log(.info, "Idle timeout for \(peer(connection)); closing")
        connection.close()
    }

    /// Answers a protocol error once, then closes after the answer is sent.
    private func reject(_ error: MessageError, on connection: Connection) {
        service.log(.warning, "Protocol error from \(peer(connection)): \(error); closing")
        failAndLinger(with: .error(error.description), on: connection)
    }

    /// Sends `response` and closes gracefully: FIN after the response, then the peer's
    /// input is read and discarded for a moment. Closing with unread input would make
    /// the kernel send a reset, which can destroy the error response before the peer
    /// reads it.
    private func failAndLinger(with response: Response, on connection: Connection) {
        failed = true
        service.send(response, on: connection)
        connection.clearDeadline()
        connection.closeGracefully(drainLimit: Self.linger)
    }

    /// How long a rejected connection is drained before it is closed.
    static let linger = Duration.seconds(2)

    func connectionDidReachEnd(_ connection: Connection) {
        if !failed {
            // End of stream in the middle of a message: the peer may still read, so it
            // hears about it. All input has been read, so the close sends no reset.
            do {
                try decoder.finish(remaining: connection.unconsumedInputBytes)
            } catch {
                service.log(.warning, "Protocol error from \(peer(connection)): \(error); closing")
                failed = true
                service.send(.error(error.description), on: connection)
            }
        }
        connection.close(afterFlush: true)
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        let why = error.map { " (\($0.reason))" } ?? ""
        service.log(.info, "Closing connection to \(peer(connection))\(why)")
    }

    private func logRequest(_ message: Message, _ connection: Connection) {
        guard service.log.enabled(.info) else { return }
        if case .json = message.header.contentType, let request = try? Router.decodeJSONContent(message) {
            service.log(.info, "Received request \(JSONWriter.text(request)) from \(peer(connection))")
        } else {
            service.log(.info, "Received \(message.header.contentType) request from \(peer(connection))")
        }
    }

    private func peer(_ connection: Connection) -> String {
        connection.peerAddress?.description ?? "?"
    }
}
