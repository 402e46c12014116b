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
        roundTripBenchmark(
            "echo round trip 64B (async server, \(backend))", backend: backend,
            request: [UInt8](repeating: UInt8(ascii: "x"), count: 64), responseSize: 64, startServer: AsyncServers.echo)
        roundTripBenchmark(
            "search round trip (async action, \(backend))", backend: backend,
            request: AppRequest(action: "search", value: "morpheus").encoded(), responseSize: 148,
            startServer: AsyncServers.search)
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

    // A hostile header: 16 KiB of distinct extra keys (2,069 of them, as in issue 9's
    // report), whose decoding used to be quadratic in the number of keys.
    let manyKeys: [UInt8] = {
        let members = (0..<2_069).map { ", \"k\($0)\": 1" }.joined()
        let json = Array(
            ("{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 0"
                + members + "}").utf8)
        return [UInt8(json.count >> 8), UInt8(json.count & 0xFF)] + json
    }()
    Benchmark("decode header with 2,069 extra keys", configuration: .init(scalingFactor: .one)) { benchmark in
        var decoder = MessageDecoder(limits: MessageLimits(maxHeaderBytes: 65_535))
        manyKeys.withUnsafeBytes { buffer in
            for _ in benchmark.scaledIterations {
                let consumed = try? decoder.decode(buffer) { message in
                    blackHole(message.header.extra.count)
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
