import Conduit
import Dispatch
import Glibc
import Histogram
import Synchronization

/// Runs a load test: starts the embedded server if there is no target, spreads the
/// connections over `threads` event loops, reports progress once a second, stops
/// sending after the duration (or at `stop()`), waits for responses in flight (the drain period) and
/// returns the merged result. `run` blocks the calling thread.
public final class LoadGenerator: Sendable {
    /// The options of this run.
    public let options: LoadOptions
    private let onProgress: @Sendable (IntervalStats, LoadStats) -> Void
    private let stopRequested = Atomic<Bool>(false)
    /// Wakes the one-second wait in `run` when `stop` is called, or when no connection
    /// could be made.
    private let stopWake = DispatchSemaphore(value: 0)
    /// Workers whose every connection failed to connect: when all have, the run ends at
    /// once instead of waiting out its duration against a server that is not there.
    private let workersWithNothing = Atomic<Int>(0)

    /// Prepares a run; `onProgress` is called on the calling thread once a second with
    /// the last second's figures and the totals so far.
    public init(options: LoadOptions, onProgress: @escaping @Sendable (IntervalStats, LoadStats) -> Void = { _, _ in }) {
        self.options = options
        self.onProgress = onProgress
    }

    /// Ends the sending period now instead of after `options.duration`, from any thread
    /// (Ctrl-C's handler calls it): `run` then waits for the responses in flight (the
    /// drain period, as at the normal end) and returns the result of the run so far.
    /// Later calls do nothing.
    public func stop() {
        if !stopRequested.exchange(true, ordering: .sequentiallyConsistent) { stopWake.signal() }
    }

    /// True once `stop` has been called.
    public var isStopped: Bool { stopRequested.load(ordering: .sequentiallyConsistent) }

    /// Runs to completion, or until `stop`. Throws only when the run cannot start (no
    /// loop, no embedded server); connection failures are counted in the result.
    public func run() throws(SocketError) -> LoadResult {
        let options = self.options
        let embedded = options.target == nil
            ? try EmbeddedServer(
                workload: options.workload, threads: options.serverThreads, backend: options.backend,
                unixSocket: options.embeddedUnixSocket, tls: options.embeddedServerTLS)
            : nil
        defer { embedded?.shutdown() }
        let target = options.target ?? embedded!.address
        let group = try EventLoopGroup(threads: options.threads, backend: options.backend)
        defer { group.syncShutdown() }

        // A scenario of fixed requests with exact answers, in turn, is judged as the
        // built-in workloads are (one memcmp per chunk, no framing); any other runs
        // through its framing and expectations.
        let exactInTurn = options.scenario?.exactInTurn
        let messages = exactInTurn.map { WorkloadMessages(requests: $0.requests, responses: $0.responses) }
            ?? WorkloadMessages(workload: options.workload, size: options.size)
        // Echo answers are raw bytes, not messages: there is no meaning to compare.
        let expectations = ResponseExpectations(
            responses: messages.responses,
            comparison: options.workload == .echo || options.scenario != nil ? .exact : options.compare)
        let sources = (0..<(options.sourceAddresses > 1 ? options.sourceAddresses : 0)).map {
            SocketAddress.ipv4(127, 0, 0, UInt8(1 + options.sourceAddressOffset + $0), port: 0)
        }
        // Each worker is made on its own loop and stays there; this thread holds only
        // checked references to them.
        let scenario = exactInTurn == nil ? options.scenario.map(ScenarioPlan.init) : nil
        let connecting = (0..<group.loops.count).filter { Self.share(of: $0, options) > 0 }.count
        let nothingConnected: @Sendable () -> Void = { [self] in
            if workersWithNothing.add(1, ordering: .sequentiallyConsistent).newValue == connecting { stopWake.signal() }
        }
        let boxes = Self.collect(group.loops.map { ($0, ()) }) { index, loop, _ in
            let share = Self.share(of: index, options)
            let first = (0..<index).reduce(0) { $0 + Self.share(of: $1, options) }
            return LoopBound(
                LoadWorker(
                    loop: loop, messages: messages, scenario: scenario, expectations: expectations, options: options,
                    target: target, sources: sources, connectionCount: share, firstConnectionNumber: first,
                    nothingConnected: nothingConnected),
                on: loop)
        }
        let connectStart = Monotonic.now()
        _ = Self.collect(boxes) { $0.start(at: connectStart, holding: options.startAt != nil) }
        var start = connectStart
        var startedAt: Double? = WallClock.now()
        if let startAt = options.startAt {
            waitForStartInstant(startAt, workers: boxes)
            start = Monotonic.now()
            // Stopped while waiting: nothing is sent, and the run did not start.
            startedAt = isStopped ? nil : WallClock.now()
            let sendingStart = start
            if !isStopped { _ = Self.collect(boxes) { $0.release(at: sendingStart) } }
        }

        var series: [IntervalStats] = []
        // Compressed as each second ends: a histogram is ~100 KiB uncompressed, and an
        // hour's run would otherwise hold 3,600 of them.
        var intervalLatencies: [String] = []
        let durationNanos = options.duration.nanoseconds
        var second = 0
        while Monotonic.now() - start < durationNanos && !isStopped {
            second += 1
            let wake = start + UInt64(second) * 1_000_000_000
            guard waitUntil(min(wake, start + durationNanos)) else { break }
            let now = Monotonic.now()
            if now < wake && now - start >= durationNanos { break }
            let thisSecond = second
            let snapshots = Self.collect(boxes) { $0.snapshot(second: thisSecond) }
            intervalLatencies.append(HistogramCodec.base64(Self.merged(snapshots.map(\.1))))
            var total = IntervalStats(second: second)
            var histogramP99: UInt64 = 0
            for (part, _) in snapshots {
                total.requests += part.requests
                total.errors += part.errors
                total.connectionsUp += part.connectionsUp
                histogramP99 = max(histogramP99, part.p99Nanoseconds)
            }
            total.p99Nanoseconds = histogramP99
            series.append(total)
            if options.progress {
                let totals = Self.collect(boxes) { $0.stats }.reduce(into: LoadStats()) { $0.merge($1) }
                onProgress(total, totals)
            }
        }
        let elapsed = Double(Monotonic.now() - start) / 1e9
        _ = Self.collect(boxes) { $0.stopSending() }
        let drainDeadline = Monotonic.now() &+ options.drain.nanoseconds
        while Monotonic.now() < drainDeadline {
            if Self.collect(boxes, { $0.inFlight }).reduce(0, +) == 0 { break }
            sleepUntil(Monotonic.now() + 20_000_000)
        }
        // The rest of the run (the last part-second and the drain) is one more interval,
        // so that the intervals hold every latency of the run.
        let lastSecond = second + 1
        let rest = Self.collect(boxes) { $0.snapshot(second: lastSecond).1 }
        intervalLatencies.append(HistogramCodec.base64(Self.merged(rest)))
        let finals = Self.collect(boxes) { worker -> LoadStats in
            worker.finish()
            return worker.stats
        }
        var stats = LoadStats()
        for part in finals { stats.merge(part) }
        var result = LoadResult(
            stats: stats, series: series, elapsedSeconds: elapsed, target: target.description, embedded: embedded != nil,
            connections: options.connections, workload: options.workload, compare: expectations.comparison,
            rate: options.rate, pipeline: options.pipeline, backend: options.backend.rawValue,
            clientLoops: group.syncCounters(), serverLoops: embedded?.group.syncCounters(),
            segment: options.segment, startAt: options.startAt, startedAt: startedAt,
            intervalLatencies: intervalLatencies, scenario: options.scenario?.summary,
            requestsPerConnection: options.requestsPerConnection)
        result.judge(by: options.thresholds)
        return result
    }

    /// The connections of the worker at `index`.
    private static func share(of index: Int, _ options: LoadOptions) -> Int {
        options.connections / options.threads + (index < options.connections % options.threads ? 1 : 0)
    }

    private static func merged(_ parts: [Histogram<UInt64>]) -> Histogram<UInt64> {
        var total = LoadStats.makeHistogram()
        for part in parts { total.add(part) }
        return total
    }

    /// Waits, while the connections open, until every one is up or has failed and then
    /// until the wall-clock instant `startAt`, or `stop`. A start time that passes while
    /// connections are still opening starts the run then (the report shows how late).
    private func waitForStartInstant(_ startAt: Double, workers: [LoopBound<LoadWorker>]) {
        let deadline = WallClock.monotonicDeadline(at: startAt)
        while Monotonic.now() < deadline && !isStopped {
            if Self.collect(workers, { $0.allSettled }).allSatisfy({ $0 }) { break }
            sleepUntil(min(deadline, Monotonic.now() + 10_000_000))
        }
        _ = waitUntil(deadline)
    }

    /// Runs `body` with every worker on its own loop, all at once, and waits for all
    /// the answers.
    private static func collect<T: Sendable>(
        _ workers: [LoopBound<LoadWorker>], _ body: @escaping @Sendable (LoadWorker) -> T
    ) -> [T] {
        collect(workers.map { ($0.loop, $0) }) { _, _, worker in body(worker.value) }
    }

    /// Runs `body(index, loop, item)` on each item's loop, all at once, and waits for
    /// every answer (in the items' order). A loop that has stopped cannot answer: that
    /// is a bug in this file (the group outlives the run), so it stops the process.
    private static func collect<Item: Sendable, T: Sendable>(
        _ items: [(EventLoop, Item)], _ body: @escaping @Sendable (Int, EventLoop, Item) -> T
    ) -> [T] {
        EventLoop.syncAsk(items.map(\.0)) { index in body(index, items[index].0, items[index].1) }.map { answer in
            guard let answer else { preconditionFailure("a load worker's loop stopped during the run") }
            return answer
        }
    }

    /// Waits until `deadline` (monotonic nanoseconds) or `stop`; false if stopped. The
    /// wait is recomputed from the absolute deadline each time, so ticks don't drift.
    private func waitUntil(_ deadline: UInt64) -> Bool {
        if isStopped { return false }
        let now = Monotonic.now()
        guard deadline > now else { return true }
        return stopWake.wait(timeout: .now() + .nanoseconds(Int(deadline - now))) == .timedOut
    }

    private func sleepUntil(_ deadline: UInt64) {
        let now = Monotonic.now()
        guard deadline > now else { return }
        // Absolute deadlines on the monotonic clock, so the one-second ticks don't drift.
        var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
    }
}
