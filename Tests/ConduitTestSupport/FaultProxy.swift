import Conduit
import Dispatch

/// What a `FaultProxy` does to the bytes it forwards.
public enum Fault: Sendable, CustomStringConvertible {
    /// Forward everything unchanged.
    case none
    /// Delay every chunk by `milliseconds` plus up to `jitter` more (order is kept).
    case latency(milliseconds: Int, jitter: Int)
    /// Forward client bytes one per write.
    case onePieceAtATime
    /// Forward `after` client bytes, then nothing for `milliseconds`, then the rest.
    case stall(after: Int, milliseconds: Int)
    /// Forward `after` client bytes, then reset both connections.
    case reset(after: Int)
    /// Forward `after` client bytes, then close the server side for writing (half-close).
    case halfClose(after: Int)
    /// Forward `after` bytes of the server's answer, then reset both connections.
    case resetResponse(after: Int)

    /// A short name for messages.
    public var description: String {
        switch self {
        case .none: return "none"
        case .latency(let ms, let jitter): return "latency \(ms)±\(jitter) ms"
        case .onePieceAtATime: return "1-byte writes"
        case .stall(let after, let ms): return "stall \(ms) ms after \(after) bytes"
        case .reset(let after): return "reset after \(after) request bytes"
        case .halfClose(let after): return "half-close after \(after) request bytes"
        case .resetResponse(let after): return "reset after \(after) response bytes"
        }
    }
}

/// A TCP proxy on loopback that injects one kind of fault into every connection it
/// forwards: what TCP itself does not hide from applications (latency, tiny writes,
/// stalls mid-frame, resets and half-closes mid-stream). Built on Conduit's own loop.
public final class FaultProxy: @unchecked Sendable {
    private let group: EventLoopGroup
    private let server: Server
    /// Where clients connect.
    public var address: SocketAddress { server.address }

    /// Starts a proxy to `upstream` applying `fault`.
    public init(upstream: SocketAddress, fault: Fault) throws {
        group = try EventLoopGroup(threads: 1)
        server = try Server(group: group, address: .loopback(port: 0)) { client in
            ProxySide(upstream: upstream, fault: fault, client: client)
        }
    }

    /// Stops the proxy and closes its connections.
    public func shutdown() {
        server.syncStopAccepting()
        group.syncShutdown()
    }
}

/// The client-facing half of one proxied connection; owns the upstream half.
final class ProxySide: ConnectionHandler {
    let fault: Fault
    weak var client: Connection?
    var upstream: Connection?
    var forwardedUp = 0
    var forwardedDown = 0
    var stalled = false
    private var queue: [(due: UInt64, action: () -> Void)] = []
    var finished = false

    init(upstream address: SocketAddress, fault: Fault, client: Connection) {
        self.fault = fault
        self.client = client
        upstream = try? Connection.connect(to: address, on: client.loop, handler: UpstreamSide(owner: self))
    }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        guard let upstream, !finished else { return bytes.count }
        let data = Array(bytes)
        switch fault {
        case .none, .resetResponse:
            upstream.write(data)
        case .latency(let ms, let jitter):
            later(ms + Int.random(in: 0...jitter), ordered: true) { upstream.write(data) }
        case .onePieceAtATime:
            for (index, byte) in data.enumerated() {
                later(index == 0 ? 0 : 1, ordered: true) { upstream.write([byte]) }
            }
        case .stall(let after, let ms):
            let head = max(0, min(data.count, after - forwardedUp))
            if head > 0 { upstream.write(Array(data[..<head])) }
            if head < data.count {
                let tail = Array(data[head...])
                if !stalled {
                    stalled = true
                    later(ms, ordered: true) { upstream.write(tail) }
                } else {
                    later(0, ordered: true) { upstream.write(tail) }
                }
            }
        case .reset(let after), .halfClose(let after):
            let head = max(0, min(data.count, after - forwardedUp))
            if head > 0 { upstream.write(Array(data[..<head])) }
            if forwardedUp + data.count >= after {
                finished = true
                if case .reset = fault {
                    upstream.reset()
                    connection.reset()
                } else {
                    upstream.shutdownOutput()
                }
            }
        }
        forwardedUp += data.count
        return bytes.count
    }

    /// Runs `body` after `milliseconds`, never before actions queued earlier: a
    /// jittered delay must not reorder the stream. One queue, one timer at a time.
    func later(_ milliseconds: Int, ordered: Bool, _ body: @escaping () -> Void) {
        let due = max(Monotonic.now() + UInt64(milliseconds) * 1_000_000, queue.last?.due ?? 0)
        queue.append((due, body))
        if queue.count == 1 { pump() }
    }

    private func pump() {
        while let first = queue.first, first.due <= Monotonic.now() {
            queue.removeFirst()
            first.action()
        }
        guard let next = queue.first, let loop = client?.loop ?? upstream?.loop else { return }
        loop.schedule(after: .nanoseconds(Int64(next.due - min(next.due, Monotonic.now())))) { [weak self] in self?.pump() }
    }

    func fromUpstream(_ bytes: UnsafeRawBufferPointer) {
        guard let client else { return }
        let data = Array(bytes)
        switch fault {
        case .latency(let ms, let jitter):
            later(ms + Int.random(in: 0...jitter), ordered: true) { client.write(data) }
        case .resetResponse(let after):
            let head = max(0, min(data.count, after - forwardedDown))
            if head > 0 { client.write(Array(data[..<head])) }
            if forwardedDown + data.count >= after {
                upstream?.reset()
                client.reset()
            }
        default:
            client.write(data)
        }
        forwardedDown += data.count
    }

    func connectionDidReachEnd(_ connection: Connection) { upstream?.shutdownOutput() }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        let upstream = self.upstream
        self.upstream = nil
        // Let delayed writes drain before closing the other side.
        later(0, ordered: true) { upstream?.close(afterFlush: true) }
    }
}

/// The server-facing half: passes the answer back through the owner.
final class UpstreamSide: ConnectionHandler {
    weak var owner: ProxySide?
    init(owner: ProxySide) { self.owner = owner }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        owner?.fromUpstream(bytes)
        return bytes.count
    }

    func connectionDidReachEnd(_ connection: Connection) {
        guard let owner else { return }
        let client = owner.client
        owner.later(0, ordered: true) { client?.shutdownOutput() }
    }

    func connectionDidClose(_ connection: Connection, error: SocketError?) {
        guard let owner else { return }
        let client = owner.client
        if error != nil {
            client?.reset()
        } else {
            owner.later(0, ordered: true) { client?.close(afterFlush: true) }
        }
    }
}
