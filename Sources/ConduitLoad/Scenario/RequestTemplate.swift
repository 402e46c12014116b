import Conduit
/// The bytes of one kind of request, made of fields: fixed bytes, the connection's
/// number, the request's sequence number, a key drawn from a range, random letters, and
/// the length of another field (for length-prefixed requests). A template of fixed bytes
/// only is rendered once; the others are rendered per request into a reused buffer.
///
/// Written as text (`--request`, a scenario file), a template is bytes with escapes and
/// fields in braces; see `init(parsing:)` (TemplateSyntax.swift).
public struct RequestTemplate: Sendable, Equatable {
    /// One part of a request.
    public enum Field: Sendable, Equatable {
        /// These bytes.
        case bytes([UInt8])
        /// The connection's number (0, 1, 2, … across this process's connections), in decimal.
        case connection
        /// The request's number on its connection (0, 1, 2, …), in decimal.
        case sequence
        /// A key from `range`, drawn as `distribution` says, in decimal.
        case key(ClosedRange<Int>, KeyDistribution)
        /// This many random letters (`a`-`z`: safe inside text protocols).
        case random(Int)
        /// The length in bytes of the fields at these indices, plus `adding` (for bytes
        /// of a fixed size the length also counts), as the format writes it.
        case length(of: [Int], adding: Int, LengthFormat)
    }

    /// How a length field is written.
    public enum LengthFormat: Sendable, Equatable {
        /// Decimal digits (RESP's `$5`, a `Content-Length`).
        case decimal
        /// A binary integer of 1, 2, 4 or 8 bytes.
        case binary(size: Int, byteOrder: LengthPrefixedFraming.ByteOrder)
    }

    /// The fields, in order.
    public let fields: [Field]

    /// A template of `fields`; a `.length(of:)` must name another field that is not a
    /// length itself.
    public init(fields: [Field]) throws(ScenarioError) {
        for field in fields {
            switch field {
            case .length(let indices, _, let format):
                for index in indices {
                    guard fields.indices.contains(index) else {
                        throw ScenarioError("a length refers to field \(index), which does not exist")
                    }
                    if case .length = fields[index] { throw ScenarioError("a length cannot measure another length") }
                }
                if case .binary(let size, _) = format, ![1, 2, 4, 8].contains(size) {
                    throw ScenarioError("a binary length is 1, 2, 4 or 8 bytes, not \(size)")
                }
            case .key(let range, _) where range.lowerBound < 0:
                throw ScenarioError("a key range starts at 0 or above, not \(range.lowerBound)")
            case .random(let count) where count < 0:
                throw ScenarioError("random letters are counted from 0, not \(count)")
            default: break
            }
        }
        self.fields = fields
    }

    /// A template of fixed bytes.
    public init(bytes: [UInt8]) {
        fields = [.bytes(bytes)]
    }

    /// The bytes, if every field is fixed: rendered once for the whole run.
    public var fixedBytes: [UInt8]? {
        var out: [UInt8] = []
        for field in fields {
            guard case .bytes(let bytes) = field else { return nil }
            out += bytes
        }
        return out
    }

    /// Appends the request for `context` to `out`. Numbers are drawn first, so a length
    /// and the field it measures agree.
    func render(into out: inout [UInt8], _ context: inout RenderContext) {
        var values: [Int] = []
        swap(&values, &context.scratch)
        values.removeAll(keepingCapacity: true)
        for field in fields {
            switch field {
            case .connection: values.append(context.connection)
            case .sequence: values.append(context.sequence)
            case .key(let range, let distribution): values.append(distribution.draw(in: range, using: &context.random))
            default: values.append(0)
            }
        }
        for (index, field) in fields.enumerated() {
            switch field {
            case .bytes(let bytes): out += bytes
            case .connection, .sequence, .key: Self.appendDecimal(values[index], to: &out)
            case .random(let count):
                for _ in 0..<count { out.append(UInt8(ascii: "a") + UInt8(truncatingIfNeeded: context.random.next() % 26)) }
            case .length(let measured, let adding, .decimal):
                Self.appendDecimal(size(of: measured, values) + adding, to: &out)
            case .length(let measured, let adding, .binary(let width, let order)):
                let length = UInt64(truncatingIfNeeded: size(of: measured, values) + adding)
                for byte in 0..<width {
                    let shift = 8 * (order == .big ? width - 1 - byte : byte)
                    out.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
                }
            }
        }
        swap(&values, &context.scratch)
    }

    /// The rendered size of the fields at `indices`, given the numbers drawn for this
    /// request.
    private func size(of indices: [Int], _ values: [Int]) -> Int {
        var total = 0
        for index in indices {
            switch fields[index] {
            case .bytes(let bytes): total += bytes.count
            case .random(let count): total += count
            case .connection, .sequence, .key: total += Self.decimalDigits(values[index])
            case .length: break
            }
        }
        return total
    }

    /// Appends `value` in decimal.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            appendDecimal(-value, to: &out)
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The number of decimal digits of `value` (at least 1).
    static func decimalDigits(_ value: Int) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }
}
