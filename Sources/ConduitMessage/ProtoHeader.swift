/// The 2-byte big-endian proto header: the length of the JSON header that follows.
public enum ProtoHeader {
    /// Size of the proto header in bytes.
    public static let size = 2

    /// The largest JSON header the 2-byte length can announce.
    public static let maxHeaderLength = 65_535

    /// Reads the length at `pointer` in place (no copy): an unaligned big-endian load,
    /// the same instructions `ntohs` compiles to.
    @inline(__always)
    public static func read(_ pointer: UnsafeRawPointer) -> Int {
        Int(UInt16(bigEndian: pointer.loadUnaligned(as: UInt16.self)))
    }
}
