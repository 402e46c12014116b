/// What a request is rendered with: whose it is, its number, and a random source.
/// One per connection.
struct RenderContext {
    /// The connection's number in the run.
    var connection: Int
    /// The request's number on its connection.
    var sequence = 0
    /// Keys, random letters and weighted choices.
    var random: FastRandom

    init(connection: Int, seed: UInt64) {
        self.connection = connection
        random = FastRandom(seed: seed)
    }
}

/// xorshift64*: a fast generator for load (keys, letters, weights), not for secrets.
/// `SystemRandomNumberGenerator` reads the kernel's entropy, far slower per request.
struct FastRandom: RandomNumberGenerator {
    private var state: UInt64

    /// A generator started from `seed` (0 is replaced: xorshift stays at 0 forever).
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    /// A double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
