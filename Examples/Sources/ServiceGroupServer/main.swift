// Servers as services: a ServiceGroup runs them and, on SIGTERM or Ctrl-C, shuts them
// down gracefully — an answer in flight is still delivered. Logs go through swift-log;
// the application (not the library) bootstraps it.
import Conduit
import ConduitApp
import ConduitServiceLifecycle
import Logging
import ServiceLifecycle

LoggingSystem.bootstrap(StreamLogHandler.standardOutput)
var logger = Logger(label: "example")
logger.logLevel = .info

var router = Router.tutorial()
router.register(action: "slow") { request, _ in
    try await Task.sleep(for: .milliseconds(500))
    return .string("done: \(request["value"]?.stringValue ?? "")")
}

let loops = try EventLoopGroup(threads: 1)
let server = try await AppServer.start(
    group: loops, address: .loopback(port: 0), router: router, log: AppLog(logger))
let group = ServiceGroup(
    services: [AppServerService(server: server, gracePeriod: .seconds(5))],
    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)

let client = Task {
    let connection = try await AsyncConnection.connect(to: server.address, on: loops.next())
    let answer = Task {
        try await connection.request(AppRequest.json(action: "slow", value: .string("report")), framing: AppFraming())
    }
    try await Task.sleep(for: .milliseconds(100))
    // What SIGTERM would do; the slow answer is still delivered.
    await group.triggerGracefulShutdown()
    print(try Response(frame: try await answer.value))
    await connection.close()
}

try await group.run()
try await client.value
await loops.shutdown()
