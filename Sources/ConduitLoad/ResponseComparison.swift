/// How `conduit load` decides that a response is the correct answer to its request.
public enum ResponseComparison: String, Sendable, CaseIterable, Codable {
    /// Byte for byte against the one encoding our server writes (the tutorial's): the
    /// fast check, one `memcmp` per chunk and no allocation. A server that encodes the
    /// same answer differently (key order, spacing, `"byteorder": "big"`) is counted wrong.
    case exact
    /// Framed as a message and compared by meaning: the same `content-type`, an encoding
    /// the client can read, and the same content — JSON content as JSON data (key order,
    /// spacing and escapes free), binary content byte for byte. The header's byte order
    /// and extra keys are not compared. Costs a header decode and, for JSON, a parse per
    /// response. Echo responses are raw bytes, so the echo workload is always exact.
    case semantic
}
