import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Synchronization
import Testing

/// Runs `count` pipelined search requests through `address` on a private loop.
func session(to address: SocketAddress, count: Int = 20, pipeline: Int = 4) throws -> AppClientSession {
    let loop = try EventLoop()
    let session = AppClientSession(
        request: AppRequest(action: "search", value: "morpheus").encoded(), count: count, pipeline: pipeline
    ) { event in
        if case .closed = event { loop.stop() }
    }
    try Connection.connect(to: address, on: loop, handler: session)
    loop.run()
    return session
}

let correct = Response.result(.string("Follow the white rabbit. 🐰"))

@Suite("Faults TCP does not hide: every request completes right or fails clearly")
struct FaultInjectionTests {
    static let harmless: [Fault] = [.none, .latency(milliseconds: 5, jitter: 20), .onePieceAtATime, .stall(after: 60, milliseconds: 200)]
    static let harmful: [Fault] = [
        .stall(after: 60, milliseconds: 1500), .reset(after: 200), .halfClose(after: 200), .resetResponse(after: 100),
    ]

    @Test(arguments: harmless)
    func harmlessFaultsChangeNothing(fault: Fault) throws {
        let lines = LogLines()
        let log = AppLog(level: .info) { lines.append($0) }
        try withAppServer(backend: .shim, headerTimeout: .seconds(1), log: log) { port in
            let proxy = try FaultProxy(upstream: .loopback(port: UInt16(port)), fault: fault)
            defer { proxy.shutdown() }
            let result = try session(to: proxy.address)
            #expect(result.failure == nil, "\(fault): \(String(describing: result.failure)); server log: \(lines.all.suffix(4))")
            #expect(result.responses == Array(repeating: correct, count: 20), "\(fault)")
        }
    }

    @Test(arguments: harmful)
    func harmfulFaultsFailClearlyAndTheServerCarriesOn(fault: Fault) throws {
        try withAppServer(backend: .shim, headerTimeout: .milliseconds(500)) { port in
            let proxy = try FaultProxy(upstream: .loopback(port: UInt16(port)), fault: fault)
            defer { proxy.shutdown() }
            let result = try session(to: proxy.address)
            // Never a wrong answer: each response is the right one or an error report.
            for response in result.responses where response != correct {
                guard case .result(.string(let text)) = response, text.hasPrefix("Error: ") else {
                    Issue.record("\(fault): wrong answer \(response)")
                    continue
                }
            }
            #expect(result.responses.count < 20, "\(fault)")
            let failure = try #require(result.failure, "\(fault): no failure reported")
            // Every harmful fault ends the connection early (a close or a reset, which the
            // session reports the same way), with the responses counted so far.
            #expect(failure == .closedEarly(responses: result.responses.count, expected: 20), "\(fault): \(failure)")
            switch fault {
            case .stall:
                #expect(result.responses.last == .error("request header not complete within 0.5 s"))
            case .halfClose:
                #expect(result.responses.first == correct)
                #expect(result.responses.last == .error("connection closed mid-message after 54 bytes"))
            default:
                break
            }
            // The server keeps serving everyone else.
            let direct = try session(to: .loopback(port: UInt16(port)), count: 3, pipeline: 1)
            #expect(direct.succeeded, "\(fault)")
        }
    }
}

/// Server log lines collected from the loop thread, for failure messages.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
