import CShim
import Conduit

/// The 2-byte big-endian proto header: the length of the JSON header that follows.
public enum ProtoHeader {
    /// Size of the proto header in bytes.
    public static let size = 2

    /// Reads the length at `pointer` in place (no copy): through the shim's `ntohs`
    /// for `.shim`, with an unaligned big-endian load in Swift for `.swift`.
    @inline(__always)
    public static func read(_ pointer: UnsafeRawPointer, backend: IOBackend) -> Int {
        switch backend {
        case .shim: return Int(cshim_read_be16(pointer))
        case .swift: return Int(UInt16(bigEndian: pointer.loadUnaligned(as: UInt16.self)))
        }
    }

    /// Appends `length` as two big-endian bytes.
    public static func append(_ length: Int, to out: inout [UInt8]) {
        precondition(length <= 65_535, "a JSON header cannot exceed 65535 bytes")
        out.append(UInt8(length >> 8))
        out.append(UInt8(length & 0xff))
    }
}
