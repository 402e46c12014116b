import Glibc

/// A TCP connection registered on one event loop.
///
/// Read path: the loop receives into its own buffer and hands the handler a view of
/// it; only an unconsumed tail is copied into this connection's `inbound` buffer.
/// Write path: `write` sends at once; only what the kernel does not take (`EAGAIN`)
/// is queued, and only then is `EPOLLOUT` requested. Output written while the handler
/// is processing input is gathered and sent with one call when the handler returns.
/// Reading pauses while queued output is above `highWatermark` and resumes below
/// `lowWatermark`, so a peer that does not read cannot make us buffer without bound.
///
/// Loop-confined: use it only on its loop's thread.
public final class Connection: Selectable, @unchecked Sendable {
    /// The loop this connection lives on.
    public unowned let loop: EventLoop
    let socket: Socket
    /// The application handler; released when the connection closes.
    public internal(set) var handler: ConnectionHandler?
    private let inbound = ByteBuffer()
    private let outbound = ByteBuffer()
    private var state: State
    private var interest: UInt32 = 0
    private var gathering = false
    private var readPaused = false
    private var reachedEnd = false
    private var userPaused = false
    private var pendingShutdown = false
    /// Queued output above which reading pauses.
    public var highWatermark = 1 << 20
    /// Queued output below which paused reading resumes.
    public var lowWatermark = 256 << 10
    /// The peer's address, looked up once on first use.
    public private(set) lazy var peerAddress: SocketAddress? = socket.peerAddress()
    /// Free for the application: for example a per-connection index.
    public var userTag = 0
    /// Close after this long with nothing received (0: never). Checked by the loop's
    /// timeout sweep (`EventLoop.enableTimeoutSweep`), so precise to its interval.
    public var idleTimeoutNanoseconds: UInt64 = 0
    /// A monotonic time by which the handler wants something to have happened (for
    /// example a complete header); when it passes, the handler's
    /// `connectionDeadlinePassed` runs. 0: none. Checked by the timeout sweep.
    public var deadline: UInt64 = 0
    /// When bytes last arrived (the loop's time of that iteration).
    public private(set) var lastActivity: UInt64
    /// Runs once when the connection closes (the server's connection count uses it).
    var closeObserver: (() -> Void)?

    enum State { case connecting, open, closing, closed }

    init(loop: EventLoop, socket: Socket, handler: ConnectionHandler, connecting: Bool) {
        self.loop = loop
        self.socket = socket
        self.handler = handler
        self.state = connecting ? .connecting : .open
        self.lastActivity = loop.now
    }

    /// The socket descriptor (for diagnostics such as queue sizes).
    public var descriptor: Int32 { socket.descriptor }
    /// True until the connection is closed.
    public var isOpen: Bool { state == .open || state == .connecting || state == .closing }
    /// Bytes queued for sending that the kernel has not taken yet.
    public var pendingOutputBytes: Int { outbound.count }
    /// True while reading is paused by backpressure.
    public var isReadPaused: Bool { readPaused }
    /// The kernel's Recv-Q and Send-Q for this socket.
    public func kernelQueueSizes() -> (receive: Int, send: Int) { socket.queueSizes() }

    // MARK: opening

    func start(events: UInt32) throws(SocketError) {
        interest = events
        try loop.register(self, descriptor: socket.descriptor, events: events)
    }

    /// Tells the handler; what it writes meanwhile goes out in one send afterwards.
    func didOpen() {
        gathering = true
        handler?.connectionDidOpen(self)
        gathering = false
        if state == .open { flush() }
    }

    // MARK: writing

    /// Sends `bytes` now if the kernel takes them, else queues the rest (copied).
    /// Never blocks. Ignored once the connection is closing or closed.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard state == .open || state == .connecting else { return }
        if gathering || state == .connecting || !outbound.isEmpty {
            outbound.append(bytes)
            if !gathering { updateBackpressure() }
            return
        }
        let sent = sendNow(bytes)
        guard sent >= 0 else { return }
        if sent < bytes.count {
            outbound.append(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
            watchWritable(true)
            updateBackpressure()
        }
    }

    /// Sends `bytes`; see `write(_:)`.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Sends `header` then `body` with one `writev` when nothing is queued, without
    /// first copying them together (large payloads stay where they are).
    public func write(_ header: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) {
        guard state == .open, !gathering, outbound.isEmpty else {
            write(header)
            write(body)
            return
        }
        let total = header.count + body.count
        var vectors = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
        )
        var raw: Int
        repeat {
            raw = withUnsafePointer(to: &vectors) {
                $0.withMemoryRebound(to: iovec.self, capacity: 2) { loop.calls.writev(socket.descriptor, $0, 2) }
            }
        } while raw == -Int(EINTR)
        var sent = 0
        if raw >= 0 {
            sent = raw
        } else if raw != -Int(EAGAIN) {
            fail(SocketError(code: Int32(-raw), operation: "writev"))
            return
        }
        guard sent < total else { return }
        if sent < header.count {
            outbound.append(UnsafeRawBufferPointer(rebasing: header[sent...]))
            outbound.append(body)
        } else {
            outbound.append(UnsafeRawBufferPointer(rebasing: body[(sent - header.count)...]))
        }
        watchWritable(true)
        updateBackpressure()
    }

    /// Calls `body` with room for up to `capacity` bytes at the end of the output
    /// queue; `body` returns how many it wrote. Lets encoders write in place. The bytes
    /// go out with the next flush (at once when called outside a read callback).
    public func writeInPlace(capacity: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        guard state == .open || state == .connecting else { return }
        let room = outbound.reserve(capacity)
        let written = body(UnsafeMutableRawBufferPointer(start: room, count: capacity))
        outbound.commit(written)
        if !gathering && state == .open && interest & EpollFlag.writable == 0 { flush() }
    }

    /// Sends from `bytes` until done or `EAGAIN`; returns bytes sent, or -1 after a
    /// fatal error (the connection is then closed).
    private func sendNow(_ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < bytes.count {
            let raw = loop.calls.send(socket.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if raw >= 0 {
                offset += raw
            } else if raw == -Int(EINTR) {
                continue
            } else if raw == -Int(EAGAIN) {
                break
            } else {
                fail(SocketError(code: Int32(-raw), operation: "send"))
                return -1
            }
        }
        return offset
    }

    /// Sends queued output; asks for `EPOLLOUT` if the kernel does not take it all.
    private func flush() {
        guard !outbound.isEmpty else { return }
        let sent = sendNow(outbound.readableBytes)
        guard sent >= 0 else { return }
        outbound.consume(sent)
        if outbound.isEmpty {
            watchWritable(false)
            updateBackpressure()
            if pendingShutdown {
                pendingShutdown = false
                _ = Glibc.shutdown(socket.descriptor, Int32(SHUT_WR))
            }
            if state == .closing {
                finishClose(error: nil)
                return
            }
            handler?.connectionDidDrain(self)
        } else {
            watchWritable(true)
            updateBackpressure()
        }
    }

    // MARK: closing

    /// Closes the connection. With `afterFlush`, queued output is sent first (reading
    /// stops at once); otherwise it is dropped and the socket closed now.
    public func close(afterFlush: Bool = false) {
        switch state {
        case .closed:
            return
        case .closing:
            if !afterFlush { finishClose(error: nil) }
        case .open, .connecting:
            if afterFlush && !outbound.isEmpty && state == .open {
                state = .closing
                setInterest(EpollFlag.writable)
            } else {
                finishClose(error: nil)
            }
        }
    }

    /// Closes at once with a TCP reset (`SO_LINGER` 0): the peer's next read fails with
    /// `ECONNRESET` and queued output is dropped. For fault injection and for peers
    /// that must not linger.
    public func reset() {
        guard state != .closed else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(socket.descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        finishClose(error: nil)
    }

    /// Ends our sending side (`shutdown(SHUT_WR)`): the peer reads end of stream while
    /// we can still receive. Queued output is sent first.
    public func shutdownOutput() {
        guard state == .open else { return }
        if outbound.isEmpty {
            _ = Glibc.shutdown(socket.descriptor, Int32(SHUT_WR))
        } else {
            pendingShutdown = true
        }
    }

    private func fail(_ error: SocketError) { finishClose(error: error) }

    func failConnect(_ error: SocketError) { finishClose(error: error) }

    private func finishClose(error: SocketError?) {
        guard state != .closed else { return }
        state = .closed
        loop.deregister(descriptor: socket.descriptor)
        socket.close()
        inbound.reset()
        outbound.reset()
        let handler = self.handler
        self.handler = nil
        closeObserver?()
        closeObserver = nil
        handler?.connectionDidClose(self, error: error)
    }

    func loopDidStop() { close(afterFlush: false) }

    func closeGracefully() { close(afterFlush: true) }

    func sweep(now: UInt64) {
        guard state == .open else { return }
        if deadline != 0 && now >= deadline {
            deadline = 0
            handler?.connectionDeadlinePassed(self)
        } else if idleTimeoutNanoseconds != 0 && now &- lastActivity >= idleTimeoutNanoseconds && outbound.isEmpty {
            handler?.connectionDidIdle(self)
        }
    }

    // MARK: events

    func handleEvents(_ flags: UInt32) {
        if state == .connecting {
            completeConnect()
            return
        }
        if flags & EpollFlag.writable != 0 { flush() }
        if reachedEnd {
            // Level-triggered epoll repeats a hang-up forever: after end of stream it
            // means the peer is gone both ways, so nothing queued can be delivered.
            if flags & (EpollFlag.hangUp | EpollFlag.error) != 0 { close() }
            return
        }
        if flags & (EpollFlag.readable | EpollFlag.hangUp | EpollFlag.error) != 0, state == .open, !readPaused,
            !userPaused
        {
            readAvailable()
        }
    }

    private func completeConnect() {
        let pending = loop.calls.pendingError(socket.descriptor)
        guard pending == 0 else {
            let code = pending < 0 ? Int32(-pending) : Int32(pending)
            fail(SocketError(code: code, operation: "connect"))
            return
        }
        state = .open
        setInterest(EpollFlag.readable)
        didOpen()
    }

    /// Reads until the kernel has nothing more (a short read says so without an
    /// extra `EAGAIN` call), at most 16 times so one busy peer cannot starve the rest.
    private func readAvailable() {
        let buffer = loop.receiveBuffer
        for _ in 0..<16 {
            let raw = loop.calls.receive(socket.descriptor, buffer.baseAddress!, buffer.count)
            if raw > 0 {
                lastActivity = loop.now
                deliver(UnsafeRawBufferPointer(start: buffer.baseAddress, count: raw))
                if raw < buffer.count || state != .open || readPaused { return }
            } else if raw == 0 {
                reachedEnd = true
                handler?.connectionDidReachEnd(self)
                if state == .open { setInterest(interest & ~EpollFlag.readable) }
                return
            } else if raw == -Int(EINTR) {
                continue
            } else if raw == -Int(EAGAIN) {
                return
            } else {
                fail(SocketError(code: Int32(-raw), operation: "recv"))
                return
            }
        }
    }

    private func deliver(_ fresh: UnsafeRawBufferPointer) {
        guard let handler else { return }
        gathering = true
        if inbound.isEmpty {
            let used = handler.connection(self, didReceive: fresh)
            if state != .closed && used < fresh.count {
                inbound.append(UnsafeRawBufferPointer(rebasing: fresh[used...]))
            }
        } else {
            inbound.append(fresh)
            let used = handler.connection(self, didReceive: inbound.readableBytes)
            if state != .closed { inbound.consume(used) }
        }
        gathering = false
        if state == .open || state == .closing { flush() }
    }

    /// Stops reading from this connection until `resumeReading()` (flow control for
    /// the application; backpressure on output does the same by itself).
    public func pauseReading() {
        guard state == .open, !userPaused else { return }
        userPaused = true
        setInterest(interest & ~EpollFlag.readable)
    }

    /// Reads again after `pauseReading()`.
    public func resumeReading() {
        guard state == .open, userPaused else { return }
        userPaused = false
        if !readPaused && !reachedEnd { setInterest(interest | EpollFlag.readable) }
    }

    /// Bytes received and not yet consumed by the handler (an incomplete message).
    public var unconsumedInputBytes: Int { inbound.count }

    // MARK: interest

    private func watchWritable(_ on: Bool) {
        guard state == .open || state == .closing else { return }
        let wanted = on ? interest | EpollFlag.writable : interest & ~EpollFlag.writable
        if wanted != interest { setInterest(wanted) }
    }

    private func updateBackpressure() {
        if !readPaused && outbound.count > highWatermark {
            readPaused = true
            if state == .open { setInterest(interest & ~EpollFlag.readable) }
        } else if readPaused && outbound.count <= lowWatermark {
            readPaused = false
            if state == .open && !reachedEnd && !userPaused { setInterest(interest | EpollFlag.readable) }
        }
    }

    private func setInterest(_ events: UInt32) {
        guard events != interest, socket.isOpen else { return }
        interest = events
        loop.modify(descriptor: socket.descriptor, events: events)
    }
}

extension Connection {
    /// Swaps the handler (for example once a protocol is chosen). Call on the loop.
    public func replaceHandler(_ newHandler: ConnectionHandler) {
        guard isOpen else { return }
        handler = newHandler
    }
}
