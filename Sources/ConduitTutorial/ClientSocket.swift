import Conduit
import Glibc

/// A single non-blocking client socket without an event loop, for programs that want
/// to see each `send` result themselves — the tutorial's buffer-filling test client.
/// Uses the same backend calls as the event loop.
package final class ClientSocket {
    private let socket: Socket
    /// The server address.
    package let peer: SocketAddress

    /// What one non-blocking send did.
    package enum SendOutcome: Equatable, Sendable {
        /// The kernel took this many bytes.
        case sent(Int)
        /// The send buffer is full (`EAGAIN`).
        case wouldBlock
    }

    /// Connects to `address`, waiting at most `timeoutMilliseconds` (the socket stays
    /// non-blocking afterwards). Throws the connect error (e.g. connection refused).
    package init(connectingTo address: SocketAddress, backend: IOBackend = .shim, timeoutMilliseconds: Int32 = 10_000)
        throws(SocketError)
    {
        let calls = SystemCalls(backend: backend)
        socket = try Socket.open(family: address.family, calls: calls)
        peer = address
        let raw = address.withSockAddr { calls.connect(socket.descriptor, $0, $1) }
        if raw == -Int(EINPROGRESS) {
            var poller = pollfd(fd: socket.descriptor, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, timeoutMilliseconds) == 1 else {
                throw SocketError(code: ETIMEDOUT, operation: "connect")
            }
            let pending = calls.pendingError(socket.descriptor)
            if pending != 0 { throw SocketError(code: Int32(abs(pending)), operation: "connect") }
        } else if raw < 0 {
            throw SocketError(code: Int32(-raw), operation: "connect")
        }
    }

    /// Sends what the kernel will take now, without blocking.
    package func trySend(_ bytes: UnsafeRawBufferPointer) throws(SocketError) -> SendOutcome {
        switch IOResult.retryingInterrupts({ socket.calls.send(socket.descriptor, bytes.baseAddress!, bytes.count) }) {
        case .processed(let count): return .sent(count)
        case .wouldBlock: return .wouldBlock
        case .failed(let code): throw SocketError(code: code, operation: "send")
        }
    }

    /// The local address (with the ephemeral port the kernel chose).
    package var localAddress: SocketAddress? { socket.localAddress() }

    /// The kernel's Recv-Q and Send-Q for this socket, in bytes.
    package func queueSizes() -> (receive: Int, send: Int) { socket.queueSizes() }

    /// Closes the socket.
    package func close() { socket.close() }
}
