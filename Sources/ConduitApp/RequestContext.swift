import Conduit
import ConduitMessage

/// What an asynchronous action knows of its request besides the content.
public struct RequestContext: Sendable {
    /// The peer that sent it (nil where unknown).
    public let peer: SocketAddress?
    /// The request's JSON header.
    public let header: JSONHeader

    /// A context for a request from `peer` with `header`.
    public init(peer: SocketAddress?, header: JSONHeader) {
        self.peer = peer
        self.header = header
    }
}
