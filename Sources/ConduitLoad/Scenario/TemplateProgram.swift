import Glibc

/// A `RequestTemplate` compiled for rendering a request per send: flat operations with
/// no references in them (enum payloads of arrays were a retain and a release per field
/// per request), literal bytes in one array, lengths' fields in another. Rendering works
/// out every number and size first, then writes each byte once into the connection's
/// `RequestBuffer`.
final class TemplateProgram: Sendable {
    enum Operation: Sendable {
        case literal(offset: Int, count: Int)
        case connection
        case sequence
        /// A key drawn through `keyDraws[index]`.
        case key(Int)
        case random(Int)
        /// The size of the operations at `measured[start ..< start + count]`, plus
        /// `adding`: in decimal when `width` is 0, else a `width`-byte integer.
        case length(start: Int, count: Int, adding: Int, width: Int, bigEndian: Bool)
    }

    private let operations: [Operation]
    private let literals: [UInt8]
    private let measured: [Int]
    private let keyDraws: [KeyDraw]

    init(_ fields: [RequestTemplate.Field]) {
        var operations: [Operation] = []
        var literals: [UInt8] = []
        var measured: [Int] = []
        var keyDraws: [KeyDraw] = []
        for field in fields {
            switch field {
            case .bytes(let bytes):
                operations.append(.literal(offset: literals.count, count: bytes.count))
                literals += bytes
            case .connection: operations.append(.connection)
            case .sequence: operations.append(.sequence)
            case .key(let range, let distribution):
                operations.append(.key(keyDraws.count))
                keyDraws.append(KeyDraw(range, distribution))
            case .random(let count): operations.append(.random(count))
            case .length(let indices, let adding, let format):
                let (width, bigEndian): (Int, Bool) = switch format {
                case .decimal: (0, true)
                case .binary(let size, let order): (size, order == .big)
                }
                operations.append(.length(start: measured.count, count: indices.count, adding: adding, width: width, bigEndian: bigEndian))
                measured += indices
            }
        }
        self.operations = operations
        self.literals = literals
        self.measured = measured
        self.keyDraws = keyDraws
    }

    /// The request for `context`, written into `buffer` (valid until its next use).
    func render(_ context: inout RenderContext, into buffer: RequestBuffer) -> UnsafeRawBufferPointer {
        let count = operations.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { values in
            // Each operation's number (or, for literal bytes and letters, its size).
            var total = 0
            for index in 0..<count {
                switch operations[index] {
                case .literal(_, let size), .random(let size):
                    values[index] = size
                    total += size
                case .connection:
                    values[index] = context.connection
                    total += Self.digits(values[index])
                case .sequence:
                    values[index] = context.sequence
                    total += Self.digits(values[index])
                case .key(let draw):
                    values[index] = keyDraws[draw].draw(using: &context.random)
                    total += Self.digits(values[index])
                case .length:
                    values[index] = 0
                }
            }
            for index in 0..<count {
                guard case .length(let start, let measuredCount, let adding, let width, _) = operations[index] else { continue }
                var size = adding
                for measuredIndex in measured[start..<(start + measuredCount)] {
                    size += renderedSize(measuredIndex, values[measuredIndex])
                }
                values[index] = size
                total += width == 0 ? Self.digits(size) : width
            }
            let out = buffer.reserve(total)
            var position = 0
            for index in 0..<count {
                switch operations[index] {
                case .literal(let offset, let size):
                    literals.withUnsafeBytes { _ = memcpy(out + position, $0.baseAddress! + offset, size) }
                    position += size
                case .connection, .sequence, .key:
                    position += Self.writeDecimal(values[index], to: out + position)
                case .random(let size):
                    Self.writeLetters(size, to: out + position, using: &context.random)
                    position += size
                case .length(_, _, _, let width, let bigEndian):
                    guard width > 0 else {
                        position += Self.writeDecimal(values[index], to: out + position)
                        continue
                    }
                    let value = UInt64(truncatingIfNeeded: values[index])
                    for byte in 0..<width {
                        let shift = 8 * (bigEndian ? width - 1 - byte : byte)
                        out.storeBytes(of: UInt8(truncatingIfNeeded: value >> UInt64(shift)), toByteOffset: position + byte, as: UInt8.self)
                    }
                    position += width
                }
            }
            return UnsafeRawBufferPointer(start: out, count: total)
        }
    }

    /// The size of operation `index` once rendered, given its number.
    private func renderedSize(_ index: Int, _ value: Int) -> Int {
        switch operations[index] {
        case .literal, .random: value
        case .connection, .sequence, .key: Self.digits(value)
        case .length: 0
        }
    }

    /// Decimal digits of `value`, and a sign if negative.
    static func digits(_ value: Int) -> Int {
        var count = value < 0 ? 2 : 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    /// Writes `value` in decimal at `out`; returns its length.
    static func writeDecimal(_ value: Int, to out: UnsafeMutableRawPointer) -> Int {
        let length = digits(value)
        var rest = value.magnitude
        var position = length - 1
        repeat {
            out.storeBytes(of: UInt8(ascii: "0") + UInt8(rest % 10), toByteOffset: position, as: UInt8.self)
            rest /= 10
            position -= 1
        } while rest > 0
        if value < 0 { out.storeBytes(of: UInt8(ascii: "-"), as: UInt8.self) }
        return length
    }

    /// Writes `count` random letters `a`-`z`, 13 from each 64-bit number (26^13 < 2^64).
    static func writeLetters(_ count: Int, to out: UnsafeMutableRawPointer, using random: inout FastRandom) {
        var bits: UInt64 = 0
        for index in 0..<count {
            if index % 13 == 0 { bits = random.next() }
            out.storeBytes(of: UInt8(ascii: "a") + UInt8(bits % 26), toByteOffset: index, as: UInt8.self)
            bits /= 26
        }
    }
}

/// The bytes of one connection's request being sent: grown as needed, reused for every
/// request, freed with the connection.
final class RequestBuffer {
    private var storage = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
    private var capacity = 256

    /// Room for `size` bytes, at the start of the buffer.
    func reserve(_ size: Int) -> UnsafeMutableRawPointer {
        if size > capacity {
            storage.deallocate()
            capacity = max(size, capacity * 2)
            storage = .allocate(byteCount: capacity, alignment: 8)
        }
        return storage
    }

    deinit { storage.deallocate() }
}
