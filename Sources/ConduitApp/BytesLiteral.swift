/// Formats bytes the way Python prints a `bytes` value (`b'Hello, world'`), as the
/// tutorial's transcripts show them: printable ASCII as is, `\\` escaped, `\t \n \r` by
/// name, everything else as `\xNN`; in double quotes when the bytes hold a `'` and no
/// `"` (`b"it's"`), else in single quotes with `'` escaped.
///
/// With `limit`, only the first `limit` bytes are shown, followed by how many more
/// there were, so log lines stay short under load.
package func bytesLiteral<Bytes: Collection>(_ bytes: Bytes, limit: Int? = nil) -> String where Bytes.Element == UInt8 {
    let printed = bytes.prefix(limit ?? Int.max)
    // As Python's bytes.__repr__: double quotes when the bytes hold a ' and no ", so
    // b"it's" rather than b'it\'s'.
    let quote: Character =
        printed.contains(UInt8(ascii: "'")) && !printed.contains(UInt8(ascii: "\"")) ? "\"" : "'"
    var text = "b\(quote)"
    var shown = 0
    for byte in printed {
        shown += 1
        switch byte {
        case UInt8(ascii: "\\"): text += "\\\\"
        case UInt8(ascii: "'") where quote == "'": text += "\\'"
        case 0x09: text += "\\t"
        case 0x0a: text += "\\n"
        case 0x0d: text += "\\r"
        case 0x20..<0x7f: text.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16)
            text += byte < 16 ? "\\x0\(hex)" : "\\x\(hex)"
        }
    }
    text.append(quote)
    if shown < bytes.count { text += " … (\(bytes.count) bytes)" }
    return text
}
