/// Messages whose length is written in a field near their start: 1, 2, 4 or 8 bytes,
/// big- or little-endian, at any offset, counting the field itself or only what follows
/// it, plus a fixed adjustment. Enough to describe real protocols:
///
/// ```swift
/// // A 4-byte big-endian length, then that many bytes.
/// LengthPrefixedFraming(fieldSize: 4)
/// // memcached's binary protocol: a 24-byte header whose body length is the 4-byte
/// // big-endian field at offset 8; the body follows the header (12 bytes after the field).
/// LengthPrefixedFraming(fieldOffset: 8, fieldSize: 4, adjustment: 12)
/// ```
///
/// A message is `fieldOffset + fieldSize + value + adjustment` bytes long
/// (`fieldOffset + value + adjustment` when the value counts the field itself). A length
/// shorter than the field's end, or longer than `maxLength`, is invalid.
public struct LengthPrefixedFraming: MessageFraming {
    /// The byte order of the length field.
    public enum ByteOrder: String, Sendable, CaseIterable {
        /// Most significant byte first (network order).
        case big
        /// Least significant byte first.
        case little
    }

    /// Bytes before the length field.
    public let fieldOffset: Int
    /// The field's size: 1, 2, 4 or 8 bytes.
    public let fieldSize: Int
    /// The field's byte order.
    public let byteOrder: ByteOrder
    /// The value counts the field's own bytes (and those before it) too.
    public let countsField: Bool
    /// Added to the length the field gives (for bytes the value leaves out, such as the
    /// rest of a fixed header); may be negative.
    public let adjustment: Int
    /// The longest message accepted.
    public var maxLength: Int

    /// The framing the field describes; `fieldSize` must be 1, 2, 4 or 8. By default
    /// messages of up to 16 MiB.
    public init(
        fieldOffset: Int = 0, fieldSize: Int, byteOrder: ByteOrder = .big, countsField: Bool = false,
        adjustment: Int = 0, maxLength: Int = 16 * 1024 * 1024
    ) {
        precondition([1, 2, 4, 8].contains(fieldSize), "a length field is 1, 2, 4 or 8 bytes")
        precondition(fieldOffset >= 0, "a length field starts inside the message")
        self.fieldOffset = fieldOffset
        self.fieldSize = fieldSize
        self.byteOrder = byteOrder
        self.countsField = countsField
        self.adjustment = adjustment
        self.maxLength = maxLength
    }

    /// Where the field ends: the shortest possible message.
    public var fieldEnd: Int { fieldOffset + fieldSize }

    /// Reads the field once it has arrived, then waits for the whole message.
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        guard bytes.count >= fieldEnd else { return .needMore }
        var value: UInt64 = 0
        for index in 0..<fieldSize {
            let byte = bytes[fieldOffset + (byteOrder == .big ? index : fieldSize - 1 - index)]
            value = value << 8 | UInt64(byte)
        }
        guard value <= UInt64(Int.max / 2) else { return .invalid("length field \(value) is out of range") }
        let total = (countsField ? fieldOffset : fieldEnd) + Int(value) + adjustment
        guard total >= fieldEnd else {
            return .invalid("length field \(value) gives \(total) bytes, less than the \(fieldEnd) up to its end")
        }
        guard total <= maxLength else { return .invalid("message of \(total) bytes, over the \(maxLength)-byte limit") }
        return bytes.count >= total ? .complete(total) : .needMore
    }

    /// What follows the length field.
    public func payloadRange(of message: UnsafeRawBufferPointer) -> Range<Int> {
        min(fieldEnd, message.count)..<message.count
    }
}
