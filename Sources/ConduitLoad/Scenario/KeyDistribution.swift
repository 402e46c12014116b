import Foundation

/// How keys are drawn from their range.
public enum KeyDistribution: Sendable, Equatable {
    /// Every key equally likely.
    case uniform
    /// Zipf-like with this exponent (> 0; 0.99 is YCSB's): the first keys of the range are
    /// the hot ones. Drawn by inverting the continuous distribution proportional to
    /// 1/x^s over the range (constant time per key, no table), which follows Zipf's law
    /// closely for ranges of more than a few keys.
    case zipf(Double)

    /// A key in `range` (tests; a template draws through a prepared `KeyDraw`).
    func draw(in range: ClosedRange<Int>, using random: inout FastRandom) -> Int {
        KeyDraw(range, self).draw(using: &random)
    }
}

/// A key distribution over one range with its constants worked out once, so that a draw
/// is one random number and, for Zipf, one `pow` (two per draw, and the rest, cost a
/// templated scenario a quarter more CPU per request than a fixed one).
struct KeyDraw: Sendable, Equatable {
    private let lowerBound: Int
    private let count: Int
    /// Zipf: `(count + 1)^(1 - s) - 1` and `1 / (1 - s)`; for s = 1, `log(count + 1)`
    /// and 0. Unused for uniform keys.
    private let spread: Double
    private let inverseExponent: Double
    private let zipf: Bool

    init(_ range: ClosedRange<Int>, _ distribution: KeyDistribution) {
        lowerBound = range.lowerBound
        count = range.upperBound - range.lowerBound + 1
        let n = Double(count + 1)
        switch distribution {
        case .uniform:
            zipf = false
            spread = 0
            inverseExponent = 0
        case .zipf(let exponent) where abs(exponent - 1) < 1e-9:
            zipf = true
            spread = log(n)
            inverseExponent = 0
        case .zipf(let exponent):
            zipf = true
            spread = pow(n, 1 - exponent) - 1
            inverseExponent = 1 / (1 - exponent)
        }
    }

    /// A key: ranks 1 ... count + 1 continuous, rank r covering [r, r + 1), found by
    /// inverting the distribution's CDF at a uniform point.
    func draw(using random: inout FastRandom) -> Int {
        guard count > 1 else { return lowerBound }
        guard zipf else { return lowerBound + Int(random.next() % UInt64(count)) }
        let u = random.unit()
        let x = inverseExponent == 0 ? exp(u * spread) : pow(1 + u * spread, inverseExponent)
        return lowerBound + min(count - 1, max(0, Int(x) - 1))
    }
}
