import ArgumentParser
import Conduit
import ConduitLoad
import Foundation
import Histogram
import Synchronization

/// `conduit load --processes N`: the parent starts N worker copies of `conduit load`
/// (and, without --target, an embedded `app-server --processes N`), shows their
/// combined progress, and merges their histograms and counts into one report.
///
/// A worker (`--worker-output`) prints `P <interval JSON>` once a second and
/// `R <result JSON>` at the end on stdout.
extension LoadCommand {
    static let progressPrefix = "P "
    static let resultPrefix = "R "

    func runAsWorker(_ baseOptions: LoadOptions) throws {
        stopWhenParentExits()
        var options = baseOptions
        options.progress = true
        let encoder = JSONEncoder()
        let generator = LoadGenerator(options: options) { interval, totals in
            // The latencies so far go with each second, so the parent's "p99 so far" is
            // of every process's answers together, not the worst of the last second.
            let progress = WorkerProgress(interval: interval, latencySoFar: HistogramCodec.base64(totals.latency))
            if let data = try? encoder.encode(progress) {
                say(Self.progressPrefix + String(decoding: data, as: UTF8.self))
            }
        }
        // The parent forwards a Ctrl-C once: report what we have so far. SIGTERM comes
        // when the parent died (or wants us gone): nobody will read a result, so go at
        // once.
        let signals = SignalEvents(SignalEvents.termination) { [generator] number, _ in
            if number == SIGTERM { _exit(128 + SIGTERM) }
            generator.stop()
        }
        defer { signals.cancel() }
        let result: LoadResult
        do {
            result = try generator.run()
        } catch {
            throw fail("cannot start the load: \(error)")
        }
        say(Self.resultPrefix + String(decoding: try encoder.encode(result), as: UTF8.self))
    }

    func runWorkers(_ baseOptions: LoadOptions) throws {
        var options = baseOptions
        try checkSystemLimits(options, embeddedElsewhere: true)
        var server: WorkerProcesses?
        defer {
            server?.signalAll(SIGTERM)
            server?.waitAll()
        }
        if options.target == nil {
            let (processes, address) = try startEmbeddedServers(options)
            server = processes
            options.target = address
        }
        let target = options.target!
        let shares = (0..<processes).map { LoadSegment(index: $0, count: processes)!.share(of: options.connections) }
        let arguments = shares.map { share in workerArguments(options, target: target, connections: share) }
        let collector = WorkerCollector(count: processes)
        let workers = try WorkerProcesses(arguments: arguments) { index, line in collector.receive(index, line) }
        // Workers run in process groups of their own, so a terminal's Ctrl-C reaches only
        // us: pass it on to the load workers (not to the embedded server, which must keep
        // answering while they drain).
        let interrupt = Self.stopOnInterrupt { workers.signalAll(SIGINT) }
        defer { interrupt.cancel() }
        let total = options.connections
        var printed = 0
        while !collector.allFinished {
            usleep(100_000)
            if let interval = collector.completeSecond(after: printed) {
                printed = interval.second
                if !quiet {
                    FileHandleOutput.standardError(LoadReport.progressLine(interval, totals: collector.totalsSoFar(), connections: total))
                }
            }
            if workers.anyExited { break }
        }
        let ok = workers.waitAll()
        let results = collector.results
        guard !results.isEmpty, results.count == processes, ok else {
            throw fail("\(processes - results.count) of \(processes) load worker processes failed (see their errors above)")
        }
        var merged = LoadResult.combining(results).0
        merged.embedded = server != nil
        merged.segment = options.segment
        try finish(merged)
    }

    /// Starts `app-server --processes N` on a free loopback port and returns it with its address.
    private func startEmbeddedServers(_ options: LoadOptions) throws -> (WorkerProcesses, SocketAddress) {
        let port = Locked<Int?>(nil)
        // Signalled by the server's `Listening on` line, or by its end: the wait below
        // ends on one of them (the guard is for a server hung in its start).
        let progress = DispatchSemaphore(value: 0)
        let processes = try WorkerProcesses(
            arguments: [[
                "app-server", "127.0.0.1", "0", "--processes", String(self.processes), "--threads", String(serverThreads),
                "--log-level", "error", "--backend", options.backend.rawValue, "--no-counters-at-exit",
            ]],
            onLine: { _, line in
                if line.hasPrefix("Listening on "), let value = line.split(separator: ":").last?.split(separator: " ").first {
                    port.withLock { $0 = Int(value) }
                    progress.signal()
                }
            },
            onExit: { progress.signal() })
        let deadline = DispatchTime.now() + 300
        while port.withLock({ $0 }) == nil && !processes.anyExited {
            if progress.wait(timeout: deadline) == .timedOut { break }
        }
        guard let found = port.withLock({ $0 }) else {
            processes.signalAll(SIGTERM)
            throw fail("the embedded server processes did not start")
        }
        return (processes, .loopback(port: UInt16(found)))
    }

    private func workerArguments(_ options: LoadOptions, target: SocketAddress, connections: Int) -> [String] {
        var list = [
            "load", "--worker-output", "--quiet", "--connections", String(connections),
            "--duration", Seconds.text(options.duration), "--workload", options.workload.rawValue, "--size", String(options.size),
            "--compare", options.compare.rawValue,
            "--pipeline", String(options.pipeline), "--threads", String(options.threads),
            "--source-addresses", String(options.sourceAddresses), "--source-address-offset", String(options.sourceAddressOffset),
            "--drain", Seconds.text(options.drain),
            "--backend", options.backend.rawValue,
        ]
        list += target.unixPath.map { ["--unix", $0] } ?? ["--target", target.description]
        let share = Double(connections) / Double(options.connections)
        if let rate = options.rate { list += ["--rate", String(rate * share)] }
        if let connectRate = options.connectRate { list += ["--connect-rate", String(connectRate * share)] }
        if let startAt = options.startAt { list += ["--start-at", String(startAt)] }
        return list + custom.arguments + tlsFlags.arguments
    }
}

/// Gathers the workers' progress lines and results (lines arrive on reader threads).
final class WorkerCollector: Sendable {
    private struct State {
        var intervals: [Int: [Int: IntervalStats]] = [:]
        var resultsByWorker: [Int: LoadResult] = [:]
        var errorsSoFar: [Int: Int] = [:]
        /// Each worker's latencies so far (its latest progress line's).
        var latencySoFar: [Int: Histogram<UInt64>] = [:]
    }

    private let count: Int
    private let state = Locked(State())

    init(count: Int) { self.count = count }

    func receive(_ worker: Int, _ line: String) {
        if line.hasPrefix(LoadCommand.progressPrefix),
            let progress = try? JSONDecoder().decode(WorkerProgress.self, from: Data(line.dropFirst(2).utf8))
        {
            let interval = progress.interval
            let latency = try? HistogramCodec.decode(base64: progress.latencySoFar)
            state.withLock {
                $0.intervals[interval.second, default: [:]][worker] = interval
                $0.errorsSoFar[worker, default: 0] += interval.errors
                if let latency { $0.latencySoFar[worker] = latency }
            }
        } else if line.hasPrefix(LoadCommand.resultPrefix),
            let result = try? JSONDecoder().decode(LoadResult.self, from: Data(line.dropFirst(2).utf8))
        {
            state.withLock { $0.resultsByWorker[worker] = result }
        } else if !line.isEmpty {
            FileHandleOutput.standardError("worker \(worker): \(line)")
        }
    }

    var allFinished: Bool { state.withLock { $0.resultsByWorker.count == count } }
    var results: [LoadResult] {
        state.withLock { state in state.resultsByWorker.keys.sorted().map { state.resultsByWorker[$0]! } }
    }

    /// The next second every worker has reported, summed. A worker that has finished
    /// (its result is in) reports no more seconds, so the rest are complete without it:
    /// waiting for it stopped the progress lines for the rest of the run.
    func completeSecond(after second: Int) -> IntervalStats? {
        state.withLock { state -> IntervalStats? in
            guard let parts = state.intervals[second + 1] else { return nil }
            let reporting = (0..<count).filter { parts[$0] != nil || state.resultsByWorker[$0] == nil }
            guard reporting.allSatisfy({ parts[$0] != nil }), !parts.isEmpty else { return nil }
            var total = IntervalStats(second: second + 1)
            for part in parts.values {
                total.requests += part.requests
                total.errors += part.errors
                total.connectionsUp += part.connectionsUp
                total.p99Nanoseconds = max(total.p99Nanoseconds, part.p99Nanoseconds)
            }
            return total
        }
    }

    /// The errors and latencies of every worker so far, for the progress line.
    func totalsSoFar() -> LoadStats {
        var stats = LoadStats()
        let (errors, latencies) = state.withLock { ($0.errorsSoFar.values.reduce(0, +), Array($0.latencySoFar.values)) }
        if errors > 0 { stats.recordError("errors", count: errors) }
        for latency in latencies { stats.latency.add(latency) }
        return stats
    }
}

/// One second of a worker's run as it tells its parent: the second's figures and its
/// latencies so far (a compressed histogram, as in --hlog).
struct WorkerProgress: Codable {
    let interval: IntervalStats
    let latencySoFar: String
}
