/// A scenario, template, framing or expectation that cannot be used: what is wrong, in
/// words for the person who wrote it.
public struct ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
