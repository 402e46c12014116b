/// A scenario prepared for a run, shared by every connection: fixed requests rendered
/// once, weights turned into a cumulative table.
struct ScenarioPlan: Sendable {
    let scenario: Scenario
    /// Each kind's bytes when its template is fixed.
    let fixed: [[UInt8]?]
    /// Running totals of the weights, for a weighted draw.
    let cumulative: [Double]

    init(_ scenario: Scenario) {
        self.scenario = scenario
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
        if scenario.order == .inTurn { return sequence % cumulative.count }
        let point = random.unit() * cumulative[cumulative.count - 1]
        // Few kinds: a linear scan beats a binary search.
        return cumulative.firstIndex { point < $0 } ?? cumulative.count - 1
    }

    /// Sends the request of `kind` through `send`: the fixed bytes, or `scratch`
    /// rendered anew.
    func withRequest<Result>(
        _ kind: Int, _ context: inout RenderContext, scratch: inout [UInt8],
        _ send: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        if let bytes = fixed[kind] { return bytes.withUnsafeBytes(send) }
        scratch.removeAll(keepingCapacity: true)
        scenario.kinds[kind].template.render(into: &scratch, &context)
        return scratch.withUnsafeBytes(send)
    }
}
