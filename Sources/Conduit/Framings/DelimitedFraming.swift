import Glibc

/// Messages that each end with a delimiter (`\n`, `\r\n`, `\0`, any byte string), the
/// delimiter included in the message. A message longer than `maxLength` without its
/// delimiter is invalid.
public struct DelimitedFraming: MessageFraming {
    /// The bytes that end a message (at least one).
    public let delimiter: [UInt8]
    /// The longest message accepted, delimiter included.
    public var maxLength: Int

    /// Messages ending with `delimiter` (not empty), of at most `maxLength` bytes (64 KiB
    /// by default).
    public init(delimiter: [UInt8], maxLength: Int = 64 * 1024) {
        precondition(!delimiter.isEmpty, "a delimiter has at least one byte")
        precondition(maxLength >= delimiter.count, "a message holds at least its delimiter")
        self.delimiter = delimiter
        self.maxLength = maxLength
    }

    /// Messages ending with `delimiter`'s UTF-8 bytes.
    public init(delimiter: String, maxLength: Int = 64 * 1024) {
        self.init(delimiter: Array(delimiter.utf8), maxLength: maxLength)
    }

    /// Finds the first delimiter within the first `maxLength` bytes.
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength {
        let searched = min(bytes.count, maxLength)
        if let end = Self.end(of: delimiter, in: UnsafeRawBufferPointer(rebasing: bytes.prefix(searched))) {
            return .complete(end)
        }
        return bytes.count >= maxLength ? .invalid("no delimiter in the first \(maxLength) bytes") : .needMore
    }

    /// The message without its delimiter.
    public func payloadRange(of message: UnsafeRawBufferPointer) -> Range<Int> {
        let ends = message.count >= delimiter.count
            && delimiter.withUnsafeBytes { memcmp($0.baseAddress!, message.baseAddress! + message.count - $0.count, $0.count) == 0 }
        return 0..<(ends ? message.count - delimiter.count : message.count)
    }

    /// The index just past the first `delimiter` in `bytes`, if there is one.
    static func end(of delimiter: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, bytes.count >= delimiter.count else { return nil }
        return delimiter.withUnsafeBytes { needle -> Int? in
            if needle.count == 1 {
                guard let found = memchr(base, Int32(needle[0]), bytes.count) else { return nil }
                return UnsafeRawPointer(found) - base + 1
            }
            // memchr for the first byte, then compare the rest (Glibc's module has no memmem).
            let last = bytes.count - needle.count
            var from = 0
            while from <= last {
                guard let found = memchr(base + from, Int32(needle[0]), last - from + 1) else { return nil }
                let index = UnsafeRawPointer(found) - base
                if memcmp(found + 1, needle.baseAddress! + 1, needle.count - 1) == 0 { return index + needle.count }
                from = index + 1
            }
            return nil
        }
    }
}

/// Messages that each end with a newline (`\n`, included in the message), such as a
/// line-based text protocol: `DelimitedFraming` with `\n`. Lines longer than
/// `maxLength` are invalid.
public struct LineFraming: MessageFraming {
    /// The longest line accepted, newline included.
    public var maxLength: Int

    /// Lines of at most `maxLength` bytes (64 KiB by default).
    public init(maxLength: Int = 64 * 1024) { self.maxLength = maxLength }

    private var delimited: DelimitedFraming { DelimitedFraming(delimiter: [0x0a], maxLength: maxLength) }

    /// Finds the first newline.
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FrameLength { delimited.frame(bytes) }

    /// The line without its newline.
    public func payloadRange(of message: UnsafeRawBufferPointer) -> Range<Int> { delimited.payloadRange(of: message) }
}
