import Conduit
/// The bytes of one kind of request, made of fields: fixed bytes, the connection's
/// number, the request's sequence number, a key drawn from a range, random letters, and
/// the length of another field (for length-prefixed requests). A template of fixed bytes
/// only is rendered once; the others are rendered per request into a reused buffer
/// (`TemplateProgram`).
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
    /// The fields compiled for rendering.
    let program: TemplateProgram

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
        program = TemplateProgram(fields)
    }

    /// A template of fixed bytes.
    public init(bytes: [UInt8]) {
        fields = [.bytes(bytes)]
        program = TemplateProgram(fields)
    }

    /// Equal when made of the same fields.
    public static func == (a: RequestTemplate, b: RequestTemplate) -> Bool { a.fields == b.fields }

    /// The bytes, if every field is fixed: rendered once for the whole run.
    public var fixedBytes: [UInt8]? {
        var out: [UInt8] = []
        for field in fields {
            guard case .bytes(let bytes) = field else { return nil }
            out += bytes
        }
        return out
    }
}
