/// Formats bytes the way Python prints a `bytes` value (`b'Hello, world'`), as the
/// tutorial's transcripts show them: printable ASCII as is, `\\` and `'` escaped,
/// `\t \n \r` by name, everything else as `\xNN`.
///
/// With `limit`, only the first `limit` bytes are shown, followed by how many more
/// there were, so log lines stay short under load.
package func bytesLiteral<Bytes: Collection>(_ bytes: Bytes, limit: Int? = nil) -> String where Bytes.Element == UInt8 {
    var text = "b'"
    var shown = 0
    for byte in bytes {
        if let limit, shown == limit { break }
        shown += 1
        switch byte {
        case UInt8(ascii: "\\"): text += "\\\\"
        case UInt8(ascii: "'"): text += "\\'"
        case 0x09: text += "\\t"
        case 0x0a: text += "\\n"
        case 0x0d: text += "\\r"
        case 0x20..<0x7f: text.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16)
            text += byte < 16 ? "\\x0\(hex)" : "\\x\(hex)"
        }
    }
    text += "'"
    if shown < bytes.count { text += " … (\(bytes.count) bytes)" }
    return text
}
