import Conduit
import ConduitMessage

/// What a connection does once every answer is written.
enum AfterAnswers {
    case keepServing
    /// The peer ended its side: close after the answers.
    case close
    /// A protocol error's answer is among them: close gracefully after it.
    case closeAfterError
}

extension AppConnectionHandler {
    /// Asynchronous actions one connection may run at once; at the limit it stops
    /// reading until half of them have answered.
    static let maxInFlight = 64

    /// Runs an asynchronous action in a task; its answer comes back to this loop and
    /// goes out in order. Returns false when the connection has reached `maxInFlight`
    /// and stopped reading.
    func start(_ work: @escaping @Sendable () async -> Response, sequence: Int, on connection: Connection) -> Bool {
        guard connection.isOpen else { return true }
        let bound = self.bound ?? LoopBound(self, on: connection.loop)
        self.bound = bound
        inFlight += 1
        service.counters.asyncActions += 1
        let connectionBound = LoopBound(connection, on: connection.loop)
        let loop = connection.loop
        // On the connection's own loop: no hop for the answer, and no wait for a global
        // pool that blocking code elsewhere may have filled.
        running[sequence] = Task(executorPreference: loop) {
            let response = await work()
            // A stopped loop has closed the connection: nobody is left to answer.
            try? loop.execute { bound.value.finished(sequence, response, on: connectionBound.value) }
        }
        guard inFlight >= Self.maxInFlight else { return true }
        pausedForInFlight = true
        connection.pauseReading()
        return false
    }

    /// An asynchronous action answered: write what is now in order, read again if
    /// reading was paused for the limit, and finish a close or a quiesce that waited.
    func finished(_ sequence: Int, _ response: Response, on connection: Connection) {
        guard running.removeValue(forKey: sequence) != nil else { return }
        inFlight -= 1
        order.park(sequence, response)
        writeReadyAnswers(on: connection)
        if pausedForInFlight && inFlight <= Self.maxInFlight / 2 && !quiescing && !failed {
            pausedForInFlight = false
            // Offers the requests left unread at the pause at once.
            connection.resumeReading()
        }
        finishIfAnswered(connection)
    }

    /// Writes every answer whose turn has come.
    func writeReadyAnswers(on connection: Connection) {
        while let response = order.takeReady() { service.send(response, on: connection) }
    }

    /// Once nothing is outstanding, does what waited for that.
    func finishIfAnswered(_ connection: Connection) {
        guard inFlight == 0, order.isIdle, connection.isOpen else { return }
        if quiescing {
            connection.finishQuiescing()
            return
        }
        switch afterAnswers {
        case .keepServing: break
        case .close: connection.close(afterFlush: true)
        case .closeAfterError: connection.closeGracefully(drainLimit: Self.linger)
        }
    }

    /// The connection closed (the peer went, or a graceful stop's deadline passed):
    /// actions still running are cancelled; nobody is left to read their answers.
    func cancelRunningActions() {
        for task in running.values { task.cancel() }
        running.removeAll()
        inFlight = 0
    }

    /// The server is stopping: no new requests; answers in flight still go out.
    func connectionShouldQuiesce(_ connection: Connection) {
        quiescing = true
        guard inFlight > 0 || !order.isIdle else {
            // Between messages with nothing unsent: closed now, not after the grace.
            if !connection.closeIfIdle() { connection.finishQuiescing() }
            return
        }
        connection.pauseReading()
    }
}
