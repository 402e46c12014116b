import Benchmark
import Conduit
import ConduitApp
import ConduitMessage

/// Round trips over loopback on one connection, for each backend (the whole
/// transport on both sides: epoll, recv into the loop buffer, send), and the message
/// codec on its own.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .cpuTotal],
        warmupIterations: 1_000,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 1_000_000
    )

    func roundTripBenchmark(
        _ name: String, backend: IOBackend, request: [UInt8], responseSize: Int,
        startServer: @escaping @Sendable (EventLoopGroup) throws -> (SocketAddress, () -> Void)
    ) {
        let slot = RigSlot()
        Benchmark(name) { benchmark in
            slot.rig!.roundTrips(benchmark.scaledIterations.count)
        } setup: {
            slot.rig = try RoundTripRig(
                backend: backend, request: request, responseSize: responseSize, startServer: startServer)
        } teardown: {
            slot.rig?.shutdown()
            slot.rig = nil
        }
    }

    for backend in IOBackend.allCases {
        for size in [64, 4096] {
            roundTripBenchmark(
                "echo round trip \(size)B (\(backend))", backend: backend,
                request: [UInt8](repeating: UInt8(ascii: "x"), count: size), responseSize: size
            ) { group in
                let server = try Server(group: group, address: .loopback(port: 0)) { _ in Echo() }
                return (server.address, { server.syncStopAccepting() })
            }
        }
        let search = AppRequest(action: "search", value: "morpheus").encoded()
        roundTripBenchmark("search round trip (\(backend))", backend: backend, request: search, responseSize: 148) {
            group in
            let server = try AppServer(group: group, address: .loopback(port: 0))
            return (server.address, { server.server.syncStopAccepting() })
        }
    }

    let searchRequest = AppRequest(action: "search", value: "morpheus").encoded()
    Benchmark("decode search request") { benchmark in
        var decoder = MessageDecoder()
        searchRequest.withUnsafeBytes { buffer in
            for _ in benchmark.scaledIterations {
                let consumed = try? decoder.decode(buffer) { message in
                    blackHole(message.header.contentLength)
                    return true
                }
                blackHole(consumed)
            }
        }
    }

    Benchmark("encode search response") { benchmark in
        var out: [UInt8] = []
        out.reserveCapacity(256)
        let response = Response.result(.string("Follow the white rabbit. 🐰"))
        for _ in benchmark.scaledIterations {
            out.removeAll(keepingCapacity: true)
            try? response.encode(into: &out)
            blackHole(out.count)
        }
    }

    Benchmark("route search request") { benchmark in
        var decoder = MessageDecoder()
        let router = Router.tutorial()
        searchRequest.withUnsafeBytes { buffer in
            for _ in benchmark.scaledIterations {
                _ = try? decoder.decode(buffer) { message in
                    blackHole(try? router.route(message))
                    return true
                }
            }
        }
    }
}
