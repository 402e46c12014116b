import Benchmark
import Conduit

/// Echo round trips over loopback, one connection, for each backend: the whole
/// transport (epoll wait, recv into the loop buffer, send) on both sides.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .cpuTotal, .syscalls],
        warmupIterations: 1_000,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 1_000_000
    )

    for backend in IOBackend.allCases {
        for size in [64, 4096] {
            let slot = RigSlot()
            Benchmark("echo round trip \(size)B (\(backend))") { benchmark in
                slot.rig!.roundTrips(benchmark.scaledIterations.count)
            } setup: {
                slot.rig = try EchoRig(backend: backend, size: size)
            } teardown: {
                slot.rig?.shutdown()
                slot.rig = nil
            }
        }
    }
}

/// Holds a benchmark's rig from setup to teardown (the hooks take no arguments).
final class RigSlot: @unchecked Sendable {
    var rig: EchoRig?
}
