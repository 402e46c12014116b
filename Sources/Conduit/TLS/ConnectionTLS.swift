import CShim

/// A TLS connection's two sides. The transport moves ciphertext exactly as it moves
/// plaintext for other connections (the same buffers, backends and backpressure); here
/// the ciphertext it hands in is decrypted in place into the loop's plaintext buffer
/// and offered to the handler, and the handler's plaintext is encrypted straight into
/// the session's output, which goes to the kernel at once or, for what it does not
/// take, into `outbound`. What a handler writes during a callback is gathered as
/// plaintext and encrypted with one call when the callback returns, so a batch of
/// answers becomes as few records as their size allows.
extension Connection {
    /// Starts the handshake of a connection just opened: a client sends its hello; a
    /// server waits for one, within its handshake timeout.
    func beginHandshake(_ tls: TLSSession) {
        tls.startedAt = Monotonic.now()
        if server != nil {
            if let limit = server?.tlsHandshakeTimeout, limit > 0 {
                deadlineNanoseconds = loop.now &+ limit
            }
            return
        }
        _ = continueHandshake(tls)
    }

    /// Moves the handshake on with what has arrived; true once it is complete and the
    /// connection still open (the handler has been told it opened).
    private func continueHandshake(_ tls: TLSSession) -> Bool {
        let status = cshim_tls_handshake(tls.pointer)
        // Handshake messages, or the alert that tells the peer why it failed.
        sendSessionOutput(tls)
        if status == 1 {
            tls.isEstablished = true
            tls.handshakeNanoseconds = Monotonic.now() &- tls.startedAt
            deadlineNanoseconds = 0
            loop.counters.tlsHandshakes += 1
            if tls.isResumed { loop.counters.tlsResumedHandshakes += 1 }
            if !tls.waiting.isEmpty {
                encrypt(tls.waiting.readableBytes, tls)
                tls.waiting.reset()
                sendSessionOutput(tls)
            }
            tellHandlerOpened()
            return state.phase == .open
        }
        if Int(status) != Int(CSHIM_TLS_WANT_MORE) {
            loop.counters.tlsHandshakeFailures += 1
            fail(SocketError(.tls, operation: "TLS handshake: \(tls.errorText)"))
        }
        return false
    }

    /// The transport received ciphertext (valid until this returns): handshake
    /// messages, then records, decrypted and offered to the handler.
    func receivedCiphertext(_ bytes: UnsafeRawBufferPointer, _ tls: TLSSession) {
        cshim_tls_begin_input(tls.pointer, bytes.baseAddress, bytes.count)
        // A partial record stays in the session for the next input.
        defer { cshim_tls_end_input(tls.pointer) }
        if !tls.isEstablished {
            guard continueHandshake(tls) else { return }
        }
        let plaintext = loop.tlsPlaintext
        while state.phase == .open {
            var filled = 0
            var status = 0
            while filled < plaintext.count {
                let count = cshim_tls_read(tls.pointer, plaintext.baseAddress! + filled, plaintext.count - filled)
                guard count > 0 else {
                    status = count
                    break
                }
                filled += count
            }
            if filled > 0 { receivedPlaintext(UnsafeRawBufferPointer(rebasing: plaintext[..<filled])) }
            // Reading can make the session write (a key update's answer).
            if state.phase == .open { sendSessionOutput(tls) }
            switch status {
            case 0:
                continue  // the buffer filled up: more may be there
            case Int(CSHIM_TLS_WANT_MORE):
                return
            case Int(CSHIM_TLS_CLOSED):
                receivedEnd()
                return
            default:
                fail(SocketError(.tls, operation: "TLS record: \(tls.errorText)"))
                return
            }
        }
    }

    /// Encrypts and sends `bytes` (or keeps them until the handshake completes).
    func writePlaintext(_ bytes: UnsafeRawBufferPointer, _ tls: TLSSession) {
        guard tls.isEstablished else {
            tls.waiting.append(bytes)
            recharge()
            return
        }
        guard encrypt(bytes, tls) else { return }
        sendSessionOutput(tls)
    }

    /// `writeInPlace` outside a callback: the bytes are written into a scratch buffer,
    /// then encrypted.
    func writeInPlaceEncrypted(capacity: Int, _ tls: TLSSession, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        let room = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { room.deallocate() }
        let written = body(room)
        guard written >= 0 && written <= capacity else {
            fail(SocketError(.misuse, operation: "writeInPlace wrote \(written) bytes into room for \(capacity)"))
            return
        }
        writePlaintext(UnsafeRawBufferPointer(rebasing: room[..<written]), tls)
    }

    /// What a callback wrote, gathered as plaintext: encrypted in one call, then sent
    /// (`sending`) or queued. Returns true when something was sent.
    func releaseGatheredPlaintext(_ bytes: UnsafeRawBufferPointer, _ tls: TLSSession, sending: Bool) -> Bool {
        guard tls.isEstablished else {
            tls.waiting.append(bytes)
            return false
        }
        guard encrypt(bytes, tls) else { return false }
        let output = tls.output
        // Taken on every way out: the session's output is its thread's shared buffer.
        defer { cshim_tls_output_taken(tls.pointer, output.count) }
        var sent = 0
        if sending && !hasQueuedOutput {
            guard let count = loop.transport.send(self, output) else { return false }
            if count > 0 { lastActivity = loop.now }
            sent = count
        }
        if sent < output.count {
            outbound.append(UnsafeRawBufferPointer(rebasing: output[sent...]))
            updateBackpressure()
        }
        return sent > 0
    }

    /// Ends our side of the TLS stream in order (close_notify) before a close or
    /// shutdown sends FIN, so the peer can tell the end from a cut.
    func queueCloseNotify() {
        guard let tls, tls.isEstablished else { return }
        cshim_tls_close(tls.pointer)
        sendSessionOutput(tls)
    }

    /// Encrypts `bytes` into the session's output; false (the connection closed) when
    /// the session failed.
    @discardableResult
    private func encrypt(_ bytes: UnsafeRawBufferPointer, _ tls: TLSSession) -> Bool {
        guard bytes.count > 0 else { return true }
        guard cshim_tls_write(tls.pointer, bytes.baseAddress, bytes.count) >= 0 else {
            fail(SocketError(.tls, operation: "TLS write: \(tls.errorText)"))
            return false
        }
        return true
    }

    /// Sends the ciphertext the session has ready, as `write` sends plaintext: at once
    /// when nothing is queued, else after what is.
    private func sendSessionOutput(_ tls: TLSSession) {
        let output = tls.output
        guard output.count > 0 else { return }
        defer { cshim_tls_output_taken(tls.pointer, output.count) }
        guard state.phase != .closed else { return }
        if gathering || state.phase == .connecting || hasQueuedOutput {
            outbound.append(output)
            if !gathering { updateBackpressure() }
            return
        }
        guard let sent = loop.transport.send(self, output) else { return }
        if sent > 0 { lastActivity = loop.now }
        if sent < output.count {
            outbound.append(UnsafeRawBufferPointer(rebasing: output[sent...]))
            updateBackpressure()
        }
    }
}
