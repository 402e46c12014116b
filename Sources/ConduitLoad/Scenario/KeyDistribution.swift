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

    /// A key in `range`.
    func draw(in range: ClosedRange<Int>, using random: inout FastRandom) -> Int {
        let count = range.upperBound - range.lowerBound + 1
        guard count > 1 else { return range.lowerBound }
        switch self {
        case .uniform:
            return range.lowerBound + Int(random.next() % UInt64(count))
        case .zipf(let exponent):
            // Ranks 1 ... count + 1 continuous; rank r covers [r, r + 1).
            let u = random.unit()
            let n = Double(count + 1)
            let x: Double
            if abs(exponent - 1) < 1e-9 {
                x = pow(n, u)
            } else {
                let a = 1 - exponent
                x = pow(1 + u * (pow(n, a) - 1), 1 / a)
            }
            return range.lowerBound + min(count - 1, max(0, Int(x) - 1))
        }
    }
}
