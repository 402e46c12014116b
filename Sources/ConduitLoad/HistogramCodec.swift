import CZlib
import Foundation
import Histogram

/// HdrHistogram's standard binary form of a histogram (the "V2" encoding, compressed),
/// which its interval logs carry in base64 and every HdrHistogram library reads: a
/// header (cookie, lengths, significant digits, range) and the counts in index order,
/// each a ZigZag LEB128 number, a run of empty buckets written as minus its length; the
/// whole deflated with zlib behind a short header of its own.
///
/// Merging decoded histograms is exact: the counts are the buckets themselves.
public enum HistogramCodec {
    static let encodingCookie: UInt32 = 0x1c84_9303 | 0x10
    static let compressedCookie: UInt32 = 0x1c84_9304 | 0x10

    /// What does not decode.
    public struct Malformed: Error, CustomStringConvertible {
        /// What was wrong.
        public let description: String
    }

    /// `histogram` compressed and base64-encoded, as an interval log line carries it.
    public static func base64(_ histogram: Histogram<UInt64>) -> String {
        Data(compressed(histogram)).base64EncodedString()
    }

    /// The histogram in `text` (base64 of the compressed form).
    public static func decode(base64 text: String) throws(Malformed) -> Histogram<UInt64> {
        guard let data = Data(base64Encoded: String(text.filter { !$0.isWhitespace })) else {
            throw Malformed(description: "not base64")
        }
        return try decompress([UInt8](data))
    }

    /// The compressed form: cookie, deflated length, deflated V2 encoding.
    static func compressed(_ histogram: Histogram<UInt64>) -> [UInt8] {
        compressed(encoding: encoded(histogram))
    }

    /// The compressed form of an encoding already made.
    static func compressed(encoding plain: [UInt8]) -> [UInt8] {
        var bound = compressBound(uLong(plain.count))
        var deflated = [UInt8](repeating: 0, count: Int(bound))
        let status = compress2(&deflated, &bound, plain, uLong(plain.count), Z_DEFAULT_COMPRESSION)
        precondition(status == Z_OK, "zlib compress2 failed: \(status)")
        var out = ByteWriter()
        out.int32(compressedCookie)
        out.int32(UInt32(bound))
        out.bytes += deflated[..<Int(bound)]
        return out.bytes
    }

    /// The V2 encoding, uncompressed.
    static func encoded(_ histogram: Histogram<UInt64>) -> [UInt8] {
        let layout = HistogramLayout(histogram)
        var counts: [UInt64] = []
        for entry in histogram.recordedValues() {
            let index = layout.index(of: entry.value)
            if index >= counts.count { counts += repeatElement(0, count: index + 1 - counts.count) }
            counts[index] += entry.count
        }
        var payload = ByteWriter()
        var index = 0
        while index < counts.count {
            var zeros = 0
            while index < counts.count && counts[index] == 0 {
                zeros += 1
                index += 1
            }
            if zeros > 1 {
                payload.zigZag(-Int64(zeros))
            } else if zeros == 1 {
                payload.zigZag(0)
            }
            if index < counts.count {
                payload.zigZag(Int64(counts[index]))
                index += 1
            }
        }
        var out = ByteWriter()
        out.int32(encodingCookie)
        out.int32(UInt32(payload.bytes.count))
        out.int32(0)  // normalizing index offset
        out.int32(UInt32(histogram.numberOfSignificantValueDigits.rawValue))
        out.int64(histogram.lowestDiscernibleValue)
        out.int64(histogram.highestTrackableValue)
        out.int64((1.0 as Double).bitPattern)  // integer to double conversion ratio
        out.bytes += payload.bytes
        return out.bytes
    }

    static func decompress(_ bytes: [UInt8]) throws(Malformed) -> Histogram<UInt64> {
        var reader = ByteReader(bytes)
        guard try reader.int32() == compressedCookie else { throw Malformed(description: "not a compressed V2 histogram") }
        let length = Int(try reader.int32())
        guard length <= reader.remaining else { throw Malformed(description: "truncated") }
        // The V2 header is 40 bytes; the counts are at most 9 bytes each.
        let capacity = 40 + 9 * 64 * 2048
        var size = uLong(capacity)
        let deflated = Array(bytes[reader.offset..<reader.offset + length])
        var inflated = false
        // Not zero-filled first: zlib writes what it inflates, and only that is read.
        let plain = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            inflated = uncompress(buffer.baseAddress, &size, deflated, uLong(length)) == Z_OK
            initialized = inflated ? Int(size) : 0
        }
        guard inflated else {
            throw Malformed(description: "does not inflate (corrupt, or larger than \(capacity) bytes)")
        }
        return try decodeEncoded(plain)
    }

    /// The largest total count a decoded histogram may hold: far beyond any run, and
    /// small enough that thousands of them add up without overflow.
    static let countLimit: UInt64 = 1 << 50

    /// Decodes a V2 histogram into the layout every Conduit histogram has
    /// (`LoadStats.makeHistogram`: 1 ns to 100 s, 3 digits), whatever layout it was
    /// written with. Every field is checked before it is used: a file someone else wrote
    /// is hostile input (a bucket index past the range, a run of empty buckets that
    /// overflows, a lowest value of 2^63 must each be an error, not a trap or a wrong value).
    static func decodeEncoded(_ bytes: [UInt8]) throws(Malformed) -> Histogram<UInt64> {
        var reader = ByteReader(bytes)
        guard try reader.int32() == encodingCookie else { throw Malformed(description: "not a V2 histogram") }
        let payloadLength = Int(try reader.int32())
        _ = try reader.int32()
        let digitsRaw = try reader.int32()
        let lowest = try reader.int64()
        let highest = try reader.int64()
        _ = try reader.int64()
        guard payloadLength <= reader.remaining else { throw Malformed(description: "truncated") }
        guard digitsRaw <= 5, let digits = SignificantDigits(rawValue: Int8(digitsRaw)) else {
            throw Malformed(description: "\(digitsRaw) significant digits (0 to 5 are possible)")
        }
        guard lowest >= 1, lowest <= 1 << 40, highest >= 2 * lowest, highest <= 1 << 62 else {
            throw Malformed(description: "a range of \(lowest) to \(highest) (1 to 2^40 up to 2^62 are possible)")
        }
        let source = HistogramLayout(lowest: lowest, digits: Int(digits.rawValue))
        let indexLimit = source.index(of: highest) + 1
        var histogram = LoadStats.makeHistogram()
        let end = reader.offset + payloadLength
        var index = 0
        var total: UInt64 = 0
        while reader.offset < end {
            let value = try reader.zigZag()
            if value < 0 {
                // A run of empty buckets; Int64.min has no positive counterpart.
                guard value > -Int64(indexLimit) else { throw Malformed(description: "a run of empty buckets past the range") }
                index += Int(-value)
                continue
            }
            guard index < indexLimit else { throw Malformed(description: "a bucket past the range (index \(index))") }
            if value > 0 {
                let count = UInt64(value)
                total += min(count, Self.countLimit)
                guard count <= Self.countLimit, total <= Self.countLimit else {
                    throw Malformed(description: "more than \(Self.countLimit) values")
                }
                let latency = source.value(at: index)
                guard histogram.record(latency, count: count) else {
                    throw Malformed(description: "a value of \(latency) ns, above the 100 s a Conduit histogram holds")
                }
            }
            index += 1
        }
        return histogram
    }
}

/// Where a value's bucket is in HdrHistogram's standard counts array, and back: the
/// array every implementation shares, so that encoded counts mean the same everywhere.
struct HistogramLayout {
    let unitMagnitude: Int
    let subBucketHalfCountMagnitude: Int
    let subBucketHalfCount: Int
    let subBucketMask: UInt64

    init(_ histogram: Histogram<UInt64>) {
        self.init(
            lowest: histogram.lowestDiscernibleValue, digits: Int(histogram.numberOfSignificantValueDigits.rawValue))
    }

    /// The layout of a histogram whose lowest discernible value is `lowest` (1 to 2^40)
    /// with `digits` significant digits (0 to 5).
    init(lowest: UInt64, digits: Int) {
        var largestSingleUnit = 2
        for _ in 0..<digits { largestSingleUnit *= 10 }
        let subBucketCountMagnitude = Int((log2(Double(largestSingleUnit))).rounded(.up))
        subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
        unitMagnitude = 63 - lowest.leadingZeroBitCount
        subBucketHalfCount = 1 << subBucketHalfCountMagnitude
        subBucketMask = UInt64((1 << (subBucketHalfCountMagnitude + 1)) - 1) << UInt64(unitMagnitude)
    }

    func index(of value: UInt64) -> Int {
        let bucket = 64 - unitMagnitude - (subBucketHalfCountMagnitude + 1) - (value | subBucketMask).leadingZeroBitCount
        let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
        return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - subBucketHalfCount)
    }

    func value(at index: Int) -> UInt64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            subBucket -= subBucketHalfCount
            bucket = 0
        }
        return UInt64(subBucket) << UInt64(bucket + unitMagnitude)
    }
}

/// Big-endian integers and ZigZag LEB128 numbers, appended.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func int32(_ value: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) } }
    mutating func int64(_ value: UInt64) { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }

    mutating func zigZag(_ value: Int64) {
        var rest = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        // At most 9 bytes: the ninth carries 8 bits, not 7.
        for _ in 0..<8 {
            if rest < 0x80 {
                bytes.append(UInt8(rest))
                return
            }
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: rest))
    }
}

/// Reads what `ByteWriter` writes, throwing at the end of the bytes.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func byte() throws(HistogramCodec.Malformed) -> UInt8 {
        guard offset < bytes.count else { throw HistogramCodec.Malformed(description: "truncated") }
        offset += 1
        return bytes[offset - 1]
    }

    mutating func int32() throws(HistogramCodec.Malformed) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 { value = value << 8 | UInt32(try byte()) }
        return value
    }

    mutating func int64() throws(HistogramCodec.Malformed) -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(try byte()) }
        return value
    }

    mutating func zigZag() throws(HistogramCodec.Malformed) -> Int64 {
        var raw: UInt64 = 0
        for position in 0..<8 {
            let next = try byte()
            raw |= UInt64(next & 0x7f) << UInt64(7 * position)
            if next & 0x80 == 0 { return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1) }
        }
        raw |= UInt64(try byte()) << 56
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }
}
