/// The first offset where `a` and `b` differ (the shorter length if one is a prefix of
/// the other), or nil when they are equal. For large buffers, assert on this rather
/// than on `a == b`: a failing `#expect` on two large arrays computes a diff of them,
/// which takes hours for megabytes.
public func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    if a == b { return nil }
    return zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
}

/// A deterministic pseudo-random payload, so a mismatch shows up at a known offset.
public func payload(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}
