import Conduit

/// A scenario prepared for a run, shared by every connection: fixed requests rendered
/// once, weights turned into a cumulative table. A class of flat arrays, so that a
/// connection reaches a kind's template or expectation without copying the scenario (a
/// struct of arrays and an existential cost a retain and release of each, per request).
final class ScenarioPlan: Sendable {
    let framing: any MessageFraming
    let order: Scenario.Order
    let templates: [RequestTemplate]
    let expectations: [AnswerExpectation]
    /// Each kind's bytes when its template is fixed.
    let fixed: [[UInt8]?]
    /// Running totals of the weights, for a weighted draw.
    let cumulative: [Double]

    init(_ scenario: Scenario) {
        framing = scenario.framing
        order = scenario.order
        templates = scenario.kinds.map(\.template)
        expectations = scenario.kinds.map(\.expectation)
        fixed = scenario.kinds.map(\.template.fixedBytes)
        var total = 0.0
        cumulative = scenario.kinds.map {
            total += $0.weight
            return total
        }
    }

    /// The kind of the request with this sequence number.
    func kind(sequence: Int, using random: inout FastRandom) -> Int {
        if cumulative.count == 1 { return 0 }
        if order == .inTurn { return sequence % cumulative.count }
        let point = random.unit() * cumulative[cumulative.count - 1]
        // Few kinds: a linear scan beats a binary search.
        return cumulative.firstIndex { point < $0 } ?? cumulative.count - 1
    }

    /// Sends the request of `kind` through `send`: the fixed bytes, or the template
    /// rendered into `buffer`.
    func withRequest<Result>(
        _ kind: Int, _ context: inout RenderContext, buffer: RequestBuffer,
        _ send: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        if let bytes = fixed[kind] { return bytes.withUnsafeBytes(send) }
        return send(templates[kind].program.render(&context, into: buffer))
    }
}
