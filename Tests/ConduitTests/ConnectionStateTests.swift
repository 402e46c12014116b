@testable import Conduit
import Testing

/// The connection's state machine on its own, without a socket: what epoll is asked
/// to watch in each state, and the backpressure hysteresis.
@Suite("Connection state machine")
struct ConnectionStateTests {
    let readable = EpollFlag.readable
    let writable = EpollFlag.writable

    @Test func connectingWatchesOnlyForTheConnectToFinish() {
        let state = ConnectionState(connecting: true)
        #expect(state.interest == writable)
        #expect(state.acceptsWrites)
        #expect(!state.wantsToRead)
    }

    @Test func openReadsAndWatchesWritabilityOnlyWhileOutputIsQueued() {
        var state = ConnectionState(connecting: false)
        #expect(state.interest == readable)
        state.applyBackpressure(queued: 10, pauseAbove: 100, resumeBelow: 50)
        #expect(state.interest == readable | writable)
        state.applyBackpressure(queued: 0, pauseAbove: 100, resumeBelow: 50)
        #expect(state.interest == readable)
    }

    @Test func backpressurePausesAboveHighAndResumesOnlyAtLow() {
        var state = ConnectionState(connecting: false)
        state.applyBackpressure(queued: 101, pauseAbove: 100, resumeBelow: 50)
        #expect(state.pausedByBackpressure)
        #expect(state.interest == writable)
        state.applyBackpressure(queued: 70, pauseAbove: 100, resumeBelow: 50)
        #expect(state.pausedByBackpressure, "between the watermarks it stays paused")
        state.applyBackpressure(queued: 50, pauseAbove: 100, resumeBelow: 50)
        #expect(!state.pausedByBackpressure)
        #expect(state.interest == readable | writable)
    }

    @Test func keepReadingNeverPauses() {
        var state = ConnectionState(connecting: false)
        let (above, below) = ReadBackpressure.keepReading.thresholds
        state.applyBackpressure(queued: 1 << 40, pauseAbove: above, resumeBelow: below)
        #expect(!state.pausedByBackpressure)
        #expect(state.wantsToRead)
    }

    @Test func everyReasonToPauseStopsReadingAndEachIsLiftedSeparately() {
        var state = ConnectionState(connecting: false)
        state.pausedByApplication = true
        state.applyBackpressure(queued: 200, pauseAbove: 100, resumeBelow: 50)
        #expect(!state.wantsToRead)
        state.applyBackpressure(queued: 0, pauseAbove: 100, resumeBelow: 50)
        #expect(!state.wantsToRead, "the application's pause still holds")
        state.pausedByApplication = false
        #expect(state.wantsToRead)
        state.reachedEnd = true
        #expect(!state.wantsToRead)
        #expect(state.interest == 0)
    }

    @Test func closingFlushesWithoutReadingAndClosedWatchesNothing() {
        var state = ConnectionState(connecting: false)
        state.phase = .closing
        #expect(state.interest == writable)
        #expect(!state.acceptsWrites)
        state.phase = .closed
        #expect(state.interest == 0)
        #expect(!state.acceptsWrites)
    }
}
