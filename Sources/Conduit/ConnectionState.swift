/// The state of a connection, without its socket: its phase and the reasons it may
/// not read. The epoll interest follows from it (`interest`), so the loop watches
/// exactly what this state wants, and the rules can be tested without a socket.
struct ConnectionState: Equatable {
    /// Where the connection is in its life.
    enum Phase: Equatable {
        /// An outgoing connect is under way.
        case connecting
        /// Connected: reading and writing.
        case open
        /// Closing after the queued output has been sent; no more reading.
        case closing
        /// Our side is finished (output sent, FIN sent); reading and discarding what the
        /// peer still sends until it closes, so that closing does not reset the
        /// connection while the peer is still reading our last output.
        case draining
        /// Closed; nothing more happens.
        case closed
    }

    var phase: Phase
    /// Reading paused because our own unsent output is above the high watermark.
    var pausedByBackpressure = false
    /// Reading paused by the application (`pauseReading()`).
    var pausedByApplication = false
    /// Reading paused because the server's buffers together are over its memory budget.
    var pausedByBudget = false
    /// The peer has finished sending.
    var reachedEnd = false
    /// `shutdownOutput()` was asked while output was queued: do it once drained.
    var shutdownAfterFlush = false
    /// Output is queued that the kernel has not taken.
    var outputQueued = false
    /// Once the queued output is sent, drain the peer's input before closing.
    var drainAfterFlush = false

    init(connecting: Bool) { phase = connecting ? .connecting : .open }

    /// True while the application may still queue output.
    var acceptsWrites: Bool { phase == .open || phase == .connecting }

    /// True while the connection should read what arrives.
    var wantsToRead: Bool { phase == .open && !pausedByBackpressure && !pausedByApplication && !pausedByBudget && !reachedEnd }

    /// The epoll events this state wants.
    var interest: UInt32 {
        switch phase {
        case .connecting, .closing: return EpollFlag.writable
        case .draining: return EpollFlag.readable
        case .closed: return 0
        case .open: return (wantsToRead ? EpollFlag.readable : 0) | (outputQueued ? EpollFlag.writable : 0)
        }
    }

    /// Pauses reading when `queued` output passes `pauseAbove`, resumes once it is at
    /// most `resumeBelow` (hysteresis, so reading does not flap around one size).
    mutating func applyBackpressure(queued: Int, pauseAbove: Int, resumeBelow: Int) {
        outputQueued = queued > 0
        if !pausedByBackpressure && queued > pauseAbove {
            pausedByBackpressure = true
        } else if pausedByBackpressure && queued <= resumeBelow {
            pausedByBackpressure = false
        }
    }
}
