import Conduit
import ConduitTestSupport
import Synchronization
import Testing

/// `replaceHandler` during a callback: what follows that callback (the drain of the
/// output it wrote) and every later event go to the new handler. The delivery path tells
/// `connectionDidDrain` to the handler it holds for the callback, to save a retain per
/// message, so it must notice the replacement.
@Suite("Replacing the handler")
struct HandlerReplacementTests {
    @Test(arguments: IOBackend.allCases)
    func theNewHandlerHearsTheDrainOfTheCallbackThatReplacedIt(backend: IOBackend) throws {
        try requireUsable(backend)
        let log = EventLog()
        try withServer(backend: backend, makeHandler: { _ in SwitchingHandler(log: log) }) { address in
            let client = try BlockingClient(port: address.port)
            client.send(Array("a".utf8))
            #expect(client.receive(count: 1) == Array("1".utf8))
            // Answered by the new handler, on the loop after the first callback's drain:
            // by then that drain has been told.
            client.send(Array("b".utf8))
            #expect(client.receive(count: 1) == Array("2".utf8))
            // The drain of "2" may still be on its way to the log: only what came before.
            let events = log.events
            #expect(Array(events.prefix(3)) == ["first received", "second drained", "second received"])
            #expect(!events.contains("first drained"))
        }
    }
}

/// Thread-safe list of what the handlers saw, in order.
final class EventLog: Sendable {
    private let list = Mutex<[String]>([])
    func record(_ event: String) { list.withLock { $0.append(event) } }
    var events: [String] { list.withLock { $0 } }
}

/// Answers "1" and hands the connection to a `SecondHandler` in the same callback.
final class SwitchingHandler: ConnectionHandler {
    let log: EventLog
    init(log: EventLog) { self.log = log }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        log.record("first received")
        connection.replaceHandler(SecondHandler(log: log))
        connection.write(Array("1".utf8))
        return bytes.count
    }

    func connectionDidDrain(_ connection: Connection) { log.record("first drained") }
}

/// Answers "2" to anything.
final class SecondHandler: ConnectionHandler {
    let log: EventLog
    init(log: EventLog) { self.log = log }

    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        log.record("second received")
        connection.write(Array("2".utf8))
        return bytes.count
    }

    func connectionDidDrain(_ connection: Connection) { log.record("second drained") }
}
