import Conduit
import Histogram

/// The connections of one event loop and their bookkeeping. Loop-confined: every
/// method runs on `loop`'s thread (the generator hops there with `execute`).
final class LoadWorker {
    let loop: EventLoop
    let messages: WorkloadMessages
    /// The scenario every connection follows, if the run has one (else `messages`).
    let scenario: ScenarioPlan?
    /// The number of this worker's first connection in the run.
    let firstConnectionNumber: Int
    /// The answers every connection's matcher checks against (shared, built once per run).
    let expectations: ResponseExpectations
    let options: LoadOptions
    let target: SocketAddress
    /// Source addresses to bind, used round-robin (empty: let the kernel choose).
    let sources: [SocketAddress]
    let connectionCount: Int
    /// Called once if every one of this worker's connections failed to connect: nothing
    /// will happen for the rest of the run.
    private let nothingConnected: @Sendable () -> Void
    // Touched at every answer; loop-confined (see LoadConnection).
    @exclusivity(unchecked) var stats = LoadStats()
    @exclusivity(unchecked) private var intervalHistogram = LoadStats.makeHistogram()
    @exclusivity(unchecked) private var intervalRequests = 0
    private var intervalErrorBase = 0
    private var connections: [LoadConnection] = []
    /// When sending started (the open-loop schedule counts from it).
    private var startTime: UInt64 = 0
    /// When connecting started (the connect pacing and connect time count from it).
    private var connectStartTime: UInt64 = 0
    private(set) var sending = false
    /// Connections are opened but send nothing until `release` (`--start-at`).
    private var holding = false
    private var connectsIssued = 0
    private var nextConnectTime: UInt64 = 0
    private var settled = 0
    private(set) var up = 0
    private var random = SystemRandomNumberGenerator()
    // Open loop: requests issued so far against this worker's schedule.
    private var issued = 0
    private var ratePerWorker: Double = 0
    /// Open loop: the connections with room for a request, in the order they got it, so
    /// a due request finds one at once. (A scan of every connection for each request
    /// made the open loop quadratic: while connections were still opening, or all were
    /// busy, every millisecond's tick walked all of them, and 200,000 connections ran at
    /// half the asked rate with seconds of latency.)
    private var ready: [LoadConnection] = []
    private var readyHead = 0
    private var ticker: LoopTimer?

    /// Connections opened per loop iteration when no connect rate is set.
    static let connectBatch = 256

    init(
        loop: EventLoop, messages: WorkloadMessages, scenario: ScenarioPlan?, expectations: ResponseExpectations,
        options: LoadOptions, target: SocketAddress, sources: [SocketAddress], connectionCount: Int,
        firstConnectionNumber: Int, nothingConnected: @escaping @Sendable () -> Void = {}
    ) {
        self.nothingConnected = nothingConnected
        self.loop = loop
        self.messages = messages
        self.scenario = scenario
        self.firstConnectionNumber = firstConnectionNumber
        self.expectations = expectations
        self.options = options
        self.target = target
        self.sources = sources
        self.connectionCount = connectionCount
        if let rate = options.rate { ratePerWorker = rate * Double(connectionCount) / Double(options.connections) }
    }

    // MARK: starting

    /// Starts opening connections at `time`; with `holding`, they send nothing until
    /// `release`.
    func start(at time: UInt64, holding: Bool = false) {
        startTime = time
        connectStartTime = time
        sending = true
        self.holding = holding
        connections.reserveCapacity(connectionCount)
        if connectionCount == 0 { stats.connectNanoseconds = 0 }
        openMoreConnections()
        if ratePerWorker > 0 && !holding { scheduleTick() }
    }

    /// Starts sending at `time` on every connection up so far (the others start when
    /// they come up): the synchronized start of `--start-at`.
    func release(at time: UInt64) {
        guard holding else { return }
        holding = false
        startTime = time
        guard sending else { return }
        if ratePerWorker > 0 {
            scheduleTick()
            return
        }
        for connection in connections where connection.isUp {
            for _ in 0..<options.pipeline { connection.send(intendedTime: time, now: time) }
        }
    }

    /// Opens every connection as fast as possible, or paced at this worker's share of
    /// `--connect-rate`, each at a random moment within its slot (start jitter).
    private func openMoreConnections() {
        // A run can end before every connection is opened; a connection opened after
        // `finish` would outlive its worker (it holds it unowned).
        guard sending else { return }
        guard let rate = options.connectRate else {
            // In batches, so the loop also serves the connections already up (a connect
            // can take tens of microseconds while the kernel searches for a free port).
            var batch = 0
            while connectsIssued < connectionCount && batch < Self.connectBatch {
                openConnection()
                batch += 1
            }
            if connectsIssued < connectionCount {
                loop.schedule(after: .zero) { [weak self] in self?.openMoreConnections() }
            }
            return
        }
        let perWorker = rate * Double(connectionCount) / Double(options.connections)
        let slot = 1e9 / perWorker
        let now = Monotonic.now()
        while connectsIssued < connectionCount && nextConnectTime <= now {
            openConnection()
            let jitter = Double.random(in: 0..<1, using: &random)
            nextConnectTime = connectStartTime + UInt64((Double(connectsIssued) + jitter) * slot)
        }
        if connectsIssued < connectionCount {
            loop.schedule(after: .nanoseconds(Int64(clamping: max(nextConnectTime &- now, 1_000_000)))) { [weak self] in
                self?.openMoreConnections()
            }
        }
    }

    private func openConnection() {
        let index = connectsIssued
        connectsIssued += 1
        var connect = ConnectOptions(tls: options.tls, tlsServerName: options.tlsServerName)
        if !sources.isEmpty { connect.sourceAddress = sources[index % sources.count] }
        let connection = LoadConnection(worker: self, number: firstConnectionNumber + index)
        connections.append(connection)
        connection.start(to: target, options: connect)
    }

    // MARK: events from connections

    func connectionUp(_ connection: LoadConnection, connectNanoseconds: UInt64, tls: TLSDetails?) {
        up += 1
        stats.connectionsUp += 1
        stats.connectLatency.record(max(connectNanoseconds, 1))
        if let tls { stats.recordHandshake(tls) }
        if !connection.hasSettled {
            connection.hasSettled = true
            settle()
        }
        offer(connection)
        guard sending, !holding, ratePerWorker == 0 else { return }
        let now = Monotonic.now()
        for _ in 0..<options.pipeline { connection.send(intendedTime: now, now: now) }
    }

    func connectionFailed(_ connection: LoadConnection, kind: String) {
        if kind == LoadErrors.acceptQueueFull && sending {
            // A TCP client whose SYN a full accept queue dropped tries again by itself; a
            // Unix connect fails at once instead, though the server is only behind with a
            // burst. Try again as TCP would, sooner, backing off to 100 ms, while the run
            // lasts. Without this, 9,000 connections at once to the embedded server failed
            // 2,111 connects, and 300 to a backlog of 8 failed 236 (UnixLoadTests).
            let delay = Duration.milliseconds(min(1 << min(connection.connectRetries, 7), 100))
            loop.schedule(after: delay) { [weak self, weak connection] in
                guard let self, let connection else { return }
                if self.sending {
                    connection.retryConnect()
                } else {
                    self.stats.recordError(kind)
                    self.settle()
                }
            }
            return
        }
        stats.recordError(kind)
        if !connection.hasSettled {
            connection.hasSettled = true
            settle()
        }
    }

    func connectionLost(_ connection: LoadConnection) {
        up -= 1
    }

    /// `connection` carried its `requestsPerConnection` answers and closes to connect
    /// again.
    func connectionRecycling(_ connection: LoadConnection) {
        up -= 1
        stats.connectionsRecycled += 1
    }

    private func settle() {
        settled += 1
        guard settled == connectionCount else { return }
        stats.connectNanoseconds = Monotonic.now() &- connectStartTime
        if stats.connectionsUp == 0 { nothingConnected() }
    }

    func responseCompleted(_ connection: LoadConnection, latency: UInt64, serviceTime: UInt64, now: UInt64) {
        stats.requests += 1
        if !connection.hasBeenAnswered {
            connection.hasBeenAnswered = true
            stats.connectionsAnswered += 1
        }
        intervalRequests += 1
        stats.latency.record(latency)
        // In closed loop the two are the same: the service times are the latencies,
        // copied once at the end (`finish`).
        if ratePerWorker > 0 { stats.serviceTime.record(serviceTime) }
        intervalHistogram.record(latency)
        guard sending else { return }
        if ratePerWorker == 0 {
            connection.send(intendedTime: now, now: now)
        } else {
            offer(connection)
            issueDue(now: now)
        }
    }

    // MARK: open loop

    private func scheduleTick() {
        ticker = loop.schedule(after: .milliseconds(1)) { [weak self] in
            guard let self, self.sending else { return }
            self.issueDue(now: Monotonic.now())
            self.scheduleTick()
        }
    }

    /// Sends every request whose intended time has come, each on the next connection
    /// with room under the in-flight cap. A request that finds no room stays owed and
    /// keeps its intended time, so the wait counts in its latency (no coordinated
    /// omission).
    private func issueDue(now: UInt64) {
        let interval = 1e9 / ratePerWorker
        let due = Int(Double(now &- startTime) / interval) + 1
        while issued < due, let connection = nextReady() {
            // Queued while it had room; it may have closed or filled up since.
            guard connection.canSend && connection.inFlight < options.pipeline else { continue }
            connection.send(intendedTime: startTime + UInt64(Double(issued) * interval), now: now)
            issued += 1
            offer(connection)
        }
    }

    /// Queues `connection` for the open loop's next due request if it has room for one.
    private func offer(_ connection: LoadConnection) {
        guard ratePerWorker > 0, !connection.isOffered, connection.canSend, connection.inFlight < options.pipeline else {
            return
        }
        connection.isOffered = true
        ready.append(connection)
    }

    /// The connection that has waited longest for a request, if any.
    private func nextReady() -> LoadConnection? {
        guard readyHead < ready.count else { return nil }
        let connection = ready[readyHead]
        readyHead += 1
        // The consumed front is dropped now and then, not at every request.
        if readyHead >= 1024 && readyHead * 2 >= ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        connection.isOffered = false
        return connection
    }

    // MARK: control from the generator

    func stopSending() {
        sending = false
        ticker?.cancel()
    }

    var inFlight: Int { connections.reduce(0) { $0 + $1.inFlight } }

    func finish() {
        for connection in connections { connection.finish() }
        connections.removeAll()
        ready.removeAll()
        readyHead = 0
        if ratePerWorker == 0 { stats.serviceTime = stats.latency }
    }

    /// The interval since the last snapshot, with its latencies; resets the interval
    /// counters.
    func snapshot(second: Int) -> (IntervalStats, Histogram<UInt64>) {
        let errors = stats.errorCount
        let result = IntervalStats(
            second: second, requests: intervalRequests, errors: errors - intervalErrorBase, connectionsUp: up,
            p99Nanoseconds: intervalHistogram.totalCount > 0 ? intervalHistogram.valueAtPercentile(99) : 0)
        let latencies = intervalHistogram
        intervalRequests = 0
        intervalErrorBase = errors
        intervalHistogram.reset()
        return (result, latencies)
    }

    /// True once every connection is up or has failed.
    var allSettled: Bool { settled >= connectionCount }
}
