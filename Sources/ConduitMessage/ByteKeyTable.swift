/// A few values keyed by byte strings, found by comparing the raw bytes of a request
/// (an action's name, a search term) with no `String` made and no hashing. The keys
/// live in one array, so a lookup touches no reference counts; meant for tables of a
/// handful of entries, searched in order.
///
/// The lookup is `@inlinable` so that it is specialized for its `Value` where it is
/// used (another module): unspecialized, each lookup went through the value witnesses
/// of `Optional<Value>`, about 200 instructions, twice per application request.
package struct ByteKeyTable<Value> {
    @usableFromInline var keys: [UInt8] = []
    @usableFromInline var spans: [(start: Int, count: Int)] = []
    @usableFromInline var values: [Value] = []

    package init() {}

    /// Adds `value` under the UTF-8 of `key`, or replaces the value there.
    package mutating func set(_ key: String, _ value: Value) {
        let bytes = Array(key.utf8)
        let index = bytes.withUnsafeBytes { self.index(of: $0) }
        if let index {
            values[index] = value
        } else {
            spans.append((keys.count, bytes.count))
            keys.append(contentsOf: bytes)
            values.append(value)
        }
    }

    /// The value whose key is exactly these bytes.
    @inlinable
    package subscript(key: UnsafeRawBufferPointer) -> Value? {
        guard let index = index(of: key) else { return nil }
        return values[index]
    }

    @inlinable
    func index(of key: UnsafeRawBufferPointer) -> Int? {
        keys.withUnsafeBytes { all in
            spans.withUnsafeBufferPointer { spans in
                var index = 0
                while index < spans.count {
                    let span = spans[index]
                    if span.count == key.count,
                        RawBytes.equal(all.baseAddress! + span.start, key.baseAddress!, span.count)
                    {
                        return index
                    }
                    index += 1
                }
                return nil
            }
        }
    }
}

extension ByteKeyTable: Sendable where Value: Sendable {}
