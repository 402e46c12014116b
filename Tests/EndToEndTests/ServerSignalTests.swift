import ConduitTestSupport
import Foundation
import Testing

/// What a server does with each signal (RELIABILITY.md, "Signals"). Signals are taken
/// from the moment the process starts, so one sent as soon as `Listening on` appears
/// is neither lost nor fatal.
@Suite("Server signals")
struct ServerSignalTests {
    static let servers: [[String]] = [["multiconn-server"], ["app-server"]]

    /// Before: of 40 tries, 27 died of the default action and 12 ignored the signal.
    @Test(arguments: servers)
    func sigtermAsSoonAsListeningStopsGracefully(server: [String]) throws {
        for attempt in 1...15 {
            let process = try ChildProcess(server + ["127.0.0.1", "0"])
            process.signal(SIGTERM, assoonAs: "Listening on ")
            let result = process.finish(seconds: 10)
            try #require(
                !result.killedBySignal && result.status == 0,
                "attempt \(attempt): status \(result.status) (signal: \(result.killedBySignal)) \(result.stderr)")
            #expect(result.stdout.contains("Caught SIGTERM"), "\(result.stdout)")
        }
    }

    /// A terminal that goes away stops a server the graceful way.
    @Test(arguments: servers)
    func sighupStopsGracefully(server: [String]) throws {
        let process = try ChildProcess(server + ["127.0.0.1", "0"])
        try #require(process.listeningPort() != nil, "\(process.stderr)")
        process.signal(SIGHUP)
        let result = process.finish(seconds: 10)
        #expect(!result.killedBySignal && result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Caught SIGHUP"), "\(result.stdout)")
    }

    /// SIGUSR1 reports, SIGUSR2 and SIGALRM are ignored: none of them ends the server,
    /// which still answers afterwards.
    @Test func usr1ReportsAndOtherSignalsDoNotKill() throws {
        let process = try ChildProcess(["multiconn-server", "127.0.0.1", "0"])
        let port = try #require(process.listeningPort(), "\(process.stderr)")
        let client = try BlockingClient(port: port)
        client.send(Array("ping".utf8))
        #expect(client.receive(count: 4) == Array("ping".utf8))
        process.signal(SIGUSR1)
        #expect(process.waitForError(containing: "1 connections open"), "\(process.stderr)")
        // The loops' counters, for people profiling: one echo is at least one receive
        // and one send.
        #expect(process.stderr.contains("1 accepted"), "\(process.stderr)")
        #expect(process.stderr.contains("4 bytes in, 4 bytes out"), "\(process.stderr)")
        #expect(process.stderr.contains(" wake-ups ("), "\(process.stderr)")
        process.signal(SIGUSR2)
        process.signal(SIGALRM)
        #expect(process.waitForError(containing: "ignoring SIGALRM"), "\(process.stderr)")
        #expect(process.stderr.contains("ignoring SIGUSR2"), "\(process.stderr)")
        client.send(Array("pong".utf8))
        #expect(client.receive(count: 4) == Array("pong".utf8))
        client.shutdownWrite()
        process.signal(SIGTERM)
        let result = process.finish(seconds: 10)
        #expect(!result.killedBySignal && result.status == 0, "\(result.stderr)")
        // And on exit, with both echoes counted.
        #expect(result.stderr.contains("loops: "), "\(result.stderr)")
        #expect(result.stderr.contains("8 bytes in, 8 bytes out"), "\(result.stderr)")
    }

    /// The app server's status and exit lines add the application's counters (requests
    /// decoded and routed, protocol errors) to the loops'.
    @Test func appServerReportsItsRequests() throws {
        let process = try ChildProcess(["app-server", "127.0.0.1", "0", "--log-level", "warning"])
        let port = try #require(process.listeningPort(), "\(process.stderr)")
        let client = try BlockingClient(port: port)
        client.send(Vectors.searchMorpheus)
        #expect(client.receive(count: Vectors.morpheusResponse.count) == Vectors.morpheusResponse)
        process.signal(SIGUSR1)
        #expect(process.waitForError(containing: "app: 1 requests, 0 async actions, 0 protocol errors"), "\(process.stderr)")
        client.send(Vectors.searchMorpheus)
        #expect(client.receive(count: Vectors.morpheusResponse.count) == Vectors.morpheusResponse)
        client.shutdownWrite()
        process.signal(SIGTERM)
        let result = process.finish(seconds: 10)
        #expect(!result.killedBySignal && result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("loops: ") && result.stderr.contains("app: 2 requests"), "\(result.stderr)")
    }

    /// During a long grace period a second signal ends the server at once (before, it
    /// could not be forced: the second SIGTERM was ignored until the grace ended).
    @Test(arguments: servers)
    func aSecondSignalForcesTheExit(server: [String]) throws {
        let process = try ChildProcess(server + ["127.0.0.1", "0", "--shutdown-grace", "60s"])
        let port = try #require(process.listeningPort(), "\(process.stderr)")
        // A peer that never closes keeps the graceful stop waiting for the whole grace.
        let client = try BlockingClient(port: port)
        client.send(Array("x".utf8))
        process.signal(SIGTERM)
        #expect(process.waitForOutput(containing: "Caught SIGTERM"), "\(process.stdout)")
        usleep(200_000)
        #expect(process.process.isRunning, "the first signal should leave it waiting for the peer")
        let second = Date()
        process.signal(SIGTERM)
        let result = process.finish(seconds: 20)
        #expect(Date().timeIntervalSince(second) < 5)
        #expect(!result.killedBySignal && result.status == 128 + SIGTERM, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("again"), "\(result.stderr)")
    }
}
