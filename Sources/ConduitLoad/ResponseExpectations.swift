/// The answers a run's responses are checked against, prepared once per run and
/// shared by every connection (a value of a few small arrays: copying it retains them).
///
/// SPI rather than `package`: the matcher's fuzz target lives in its own package
/// (`Fuzz/`), which `package` symbols do not reach.
@_spi(Fuzzing) public struct ResponseExpectations: Sendable {
    /// The exact bytes of the answer to each request variant, in the variants' order.
    let exact: [[UInt8]]
    /// The same answers for semantic comparison; nil when comparing bytes.
    let semantic: [SemanticAnswer]?

    /// The comparison in force: `semantic` only when it was asked for and every answer
    /// is one message of the application protocol (echo answers are raw bytes).
    public var comparison: ResponseComparison { semantic == nil ? .exact : .semantic }

    /// Expectations for `responses` (`responses[i]` answers request variant `i`; at
    /// least one, none empty), compared as `comparison` asks where the answers allow it.
    public init(responses: [[UInt8]], comparison: ResponseComparison) {
        precondition(!responses.isEmpty, "a workload has at least one request variant")
        precondition(responses.allSatisfy { !$0.isEmpty }, "every request has an answer of at least one byte")
        exact = responses
        guard comparison == .semantic else {
            semantic = nil
            return
        }
        let answers = responses.compactMap(SemanticAnswer.init)
        semantic = answers.count == responses.count ? answers : nil
    }
}
