// One connection, many requests in flight: `request` from many tasks at once; each
// gets the answer to its own request (the protocol answers in order).
import Conduit
import ConduitApp

let loops = try EventLoopGroup(threads: 1)
let server = try await AppServer.start(group: loops, address: .loopback(port: 0))
let client = try await AsyncConnection.connect(to: server.address, on: loops.next())
let keys = ["morpheus", "ring", "🐶", "neo"]

let answers = try await withThrowingTaskGroup(of: (String, Response).self) { tasks in
    for index in 0..<1_000 {
        let key = keys[index % keys.count]
        tasks.addTask {
            let frame = try await client.request(AppRequest(action: "search", value: key).encoded(), framing: AppFraming())
            return (key, try Response(frame: frame))
        }
    }
    var answers: [String: Response] = [:]
    var count = 0
    for try await (key, response) in tasks {
        if let earlier = answers[key], earlier != response { fatalError("two answers for \(key)") }
        answers[key] = response
        count += 1
    }
    print("\(count) requests answered on one connection")
    return answers
}
for key in keys { print("\(key): \(answers[key]!)") }

await client.close()
await server.shutdownGracefully()
await loops.shutdown()
