// Load-testing a protocol of your own from Swift: a tiny key-value server whose messages
// are a 4-byte big-endian length and then text ("GET k", "SET k v"), loaded with
// ConduitLoad's generator: a framing for the answers, a template per kind of request,
// weights, and what each answer must be. The report is the one `conduit load` prints.
import Conduit
import ConduitLoad
import Glibc

let framing = LengthPrefixedFraming(fieldSize: 4)

/// `length` + `text`, as the protocol frames it.
func framed(_ text: String) -> [UInt8] {
    let body = Array(text.utf8)
    let count = UInt32(body.count)
    return [UInt8(count >> 24), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff)] + body
}

let loops = try EventLoopGroup(threads: 1)
let server = try await AsyncServer.start(group: loops, address: .loopback(port: 0))
let store = Store()
let serving = Task {
    await server.run { connection in
        do {
            for try await request in connection.payloads(framing) {
                let words = String(decoding: request, as: UTF8.self).split(separator: " ", maxSplits: 2).map(String.init)
                let answer: String
                switch (words.first, words.count) {
                case ("GET", 2): answer = await store.get(words[1]).map { "VALUE \($0)" } ?? "MISSING"
                case ("SET", 3):
                    await store.set(words[1], words[2])
                    answer = "STORED"
                default: answer = "ERROR"
                }
                try await connection.send(framed(answer))
            }
        } catch {}
        await connection.close()
    }
}

var options = LoadOptions()
options.target = server.address
options.connections = 20
options.duration = .seconds(1)
options.progress = false
options.scenario = Scenario(framing: framing, kinds: [
    // {len32be:body+4}: the length of the fields that follow, named `k`, plus "GET ".
    RequestKind(
        name: "GET", weight: 8,
        template: try RequestTemplate(parsing: "{len32be:k+4}GET {k=key:1-500:zipf}"),
        // After the 4-byte length: the text, to the end of the answer.
        expectation: .matches(try AnswerPattern("(VALUE [a-z]+|MISSING)$"))),
    RequestKind(
        name: "SET", weight: 2,
        template: try RequestTemplate(parsing: "{len32be:k+v+5}SET {k=key:1-500} {v=random:12}"),
        expectation: .exact(framed("STORED"))),
])
// `run` blocks its thread until the end: off the main actor, on a thread of its own.
let settled = options
let result = try await Task.detached { try LoadGenerator(options: settled).run() }.value
print(LoadReport.text(result))

serving.cancel()
await serving.value
await loops.shutdown()
guard result.stats.errorCount == 0, result.stats.requests > 0 else {
    print("the load found errors")
    exit(1)
}

/// The server's keys and values.
actor Store {
    private var values: [String: String] = [:]
    func get(_ key: String) -> String? { values[key] }
    func set(_ key: String, _ value: String) { values[key] = value }
}
