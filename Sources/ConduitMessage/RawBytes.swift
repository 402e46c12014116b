/// Byte comparisons for the hot path: raw input against fixed ASCII text, eight bytes
/// at a time, with no generic `Sequence` machinery (comparing against `String.utf8`
/// through `elementsEqual` cost about a thousand instructions per header key).
package enum RawBytes {
    /// True when `bytes[offset...]` starts with `literal`.
    @inline(__always)
    package static func hasPrefix(_ literal: StaticString, in bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset >= 0, bytes.count - offset >= count, let base = bytes.baseAddress else { return count == 0 }
        return equal(base + offset, UnsafeRawPointer(literal.utf8Start), count)
    }

    /// True when `bytes` is exactly `literal`.
    @inline(__always)
    package static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count == literal.utf8CodeUnitCount && hasPrefix(literal, in: bytes)
    }

    /// True when `bytes` equals `other`.
    @inline(__always)
    package static func equals(_ bytes: UnsafeRawBufferPointer, _ other: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == other.count else { return false }
        guard let a = bytes.baseAddress, let b = other.baseAddress else { return true }
        return equal(a, b, bytes.count)
    }

    @inline(__always)
    package static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            guard a.loadUnaligned(fromByteOffset: i, as: UInt64.self) == b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            else { return false }
            i += 8
        }
        while i < count {
            guard a.load(fromByteOffset: i, as: UInt8.self) == b.load(fromByteOffset: i, as: UInt8.self) else { return false }
            i += 1
        }
        return true
    }

    /// True when every byte is below 0x80, tested eight at a time.
    @inline(__always)
    package static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var i = 0
        while i + 8 <= bytes.count {
            guard base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 else { return false }
            i += 8
        }
        while i < bytes.count {
            guard bytes[i] < 0x80 else { return false }
            i += 1
        }
        return true
    }
}
