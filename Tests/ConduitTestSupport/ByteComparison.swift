/// The first offset where `a` and `b` differ (the shorter length if one is a prefix of
/// the other), or nil when they are equal. For large buffers, assert on this rather
/// than on `a == b`: a failing `#expect` on two large arrays computes a diff of them,
/// which takes hours for megabytes.
public func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    if a == b { return nil }
    return zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
}
