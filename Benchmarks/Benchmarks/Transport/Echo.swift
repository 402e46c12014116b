import Conduit

/// The echo service as `conduit multiconn-server` runs it (the tutorial module's
/// `EchoHandler` with no log): bytes go back out of the loop's receive buffer.
/// `ConduitTutorial` is not a product, so the benchmark states it here.
final class Echo: ConnectionHandler {
    func connection(_ connection: Connection, didReceive bytes: UnsafeRawBufferPointer) -> Int {
        connection.write(bytes)
        return bytes.count
    }
}
