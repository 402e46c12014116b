import Conduit
import ConduitApp
import ConduitMessage
import ConduitTestSupport
import Testing

/// The app protocol through the async client: many tasks pipeline requests on one
/// connection with `AppFraming`, and each gets the answer to its own request.
@Suite("async client: the app protocol")
struct AsyncAppClientTests {
    @Test(arguments: IOBackend.allCases)
    func concurrentRequestsOnOneConnectionGetTheirOwnAnswers(backend: IOBackend) async throws {
        try requireUsable(backend)
        let group = try EventLoopGroup(threads: 1, backend: backend)
        let server = try await AppServer.start(group: group, address: .loopback(port: 0))
        let connection = try await AsyncConnection.connect(to: server.address, on: group.next())
        let keys = ["morpheus", "ring", "🐶", "nothing"]
        let answers = try await withThrowingTaskGroup(of: (String, [UInt8]).self) { tasks in
            for index in 0..<300 {
                let key = keys[index % keys.count]
                tasks.addTask {
                    (key, try await connection.request(AppRequest(action: "search", value: key).encoded(), framing: AppFraming()))
                }
            }
            var answers: [(String, [UInt8])] = []
            for try await answer in tasks { answers.append(answer) }
            return answers
        }
        #expect(answers.count == 300)
        for (key, bytes) in answers {
            let responses = try decodeResponses(bytes)
            #expect(responses == [SearchAnswer.expected(for: key)], "\(key)")
        }
        await connection.close()
        await server.shutdownGracefully()
        await group.shutdown()
    }
}

/// What the tutorial's search answers for a key.
enum SearchAnswer {
    static func expected(for key: String) -> Response {
        switch key {
        case "morpheus": .result(.string("Follow the white rabbit. 🐰"))
        case "ring": .result(.string("In the caves beneath the Misty Mountains. 💍"))
        case "🐶": .result(.string("🐾 Playing ball! 🏐"))
        default: .result(.string("No match for '\(key)'."))
        }
    }
}
