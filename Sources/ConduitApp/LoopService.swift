import Conduit
import ConduitMessage

/// What the connections of one loop share: the router, the log and a scratch buffer
/// responses are encoded into (reused, so steady-state serving does not allocate it).
/// Loop-confined.
final class LoopService {
    let router: Router
    let log: AppLog
    /// The server's limits and timeouts, kept here once rather than in every
    /// connection's handler (100,000 idle connections pay for each byte a handler holds).
    let limits: MessageLimits
    let timeouts: RequestTimeouts
    /// What this loop's connections have done.
    // `@exclusivity(unchecked)`: touched for every message on the loop's thread only, and
    // no access spans a call that could reach it again.
    @exclusivity(unchecked) var counters = AppCounters()
    @exclusivity(unchecked) private var scratch: [UInt8] = []

    init(router: Router, log: AppLog, limits: MessageLimits, timeouts: RequestTimeouts) {
        self.router = router
        self.log = log
        self.limits = limits
        self.timeouts = timeouts
        scratch.reserveCapacity(4096)
    }

    /// Encodes `response` and writes it to `connection`: a `text/json` result straight
    /// into the connection's output (no scratch copy), anything else through `scratch`.
    func send(_ response: Response, on connection: Connection) {
        if let contentCount = response.jsonContentCount, !log.enabled(.debug) {
            connection.writeInPlace(capacity: MessageEncoder.jsonMessageSize(contentCount: contentCount)) { room in
                var writer = RawByteWriter(room)
                response.writeJSONMessage(contentCount: contentCount, into: &writer)
                return writer.count
            }
            return
        }
        scratch.removeAll(keepingCapacity: true)
        do throws(MessageError) {
            try response.encode(into: &scratch)
        } catch {
            // The handler's answer cannot be framed: the peer hears why, not nothing.
            log(.error, "Response could not be encoded: \(error)")
            try? Response.error("the response could not be encoded: \(error)").encode(into: &scratch)
        }
        if log.enabled(.debug) {
            log(
                .debug, "Sending \(bytesLiteral(scratch, limit: 400)) to \(connection.peerDescription)",
                peer: connection.peerAddress)
        }
        connection.write(scratch)
    }
}
