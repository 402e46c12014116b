/// Test helpers shared by the test targets.
///
/// The test vectors of shared/PROTOCOL.md, produced by the tutorial's own encoder.
public enum Vectors {
    /// Decodes a Python bytes literal body (`\x00g{...}`) into bytes.
    public static func bytes(_ python: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = Array(python.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            switch iterator.next()! {
            case UInt8(ascii: "x"):
                let hex = String(decoding: [iterator.next()!, iterator.next()!], as: UTF8.self)
                out.append(UInt8(hex, radix: 16)!)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "'"): out.append(UInt8(ascii: "'"))
            case let other: fatalError("unexpected escape \\\(Character(Unicode.Scalar(other)))")
            }
        }
        return out
    }

    public static let searchMorpheusHex =
        "00677b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a2022746578742f6a736f6e222c2022636f6e74656e742d656e636f64696e67223a20227574662d38222c2022636f6e74656e742d6c656e677468223a2034317d7b22616374696f6e223a2022736561726368222c202276616c7565223a20226d6f727068657573227d"

    public static var searchMorpheus: [UInt8] {
        var out: [UInt8] = []
        var chars = Array(searchMorpheusHex.utf8)[...]
        while !chars.isEmpty {
            out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
            chars = chars.dropFirst(2)
        }
        return out
    }

    public static let morpheusResponse = bytes(
        #"\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 43}{"result": "Follow the white rabbit. \xf0\x9f\x90\xb0"}"#)
    public static let searchDog = bytes(
        #"\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 37}{"action": "search", "value": "\xf0\x9f\x90\xb6"}"#)
    public static let dogResponse = bytes(
        #"\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 37}{"result": "\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90"}"#)
    public static let noMatchXYZ = bytes(
        #"\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 33}{"result": "No match for 'xyz'."}"#)
    public static let binaryRequest = bytes(
        #"\x00\x7f{"byteorder": "little", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": 10}binary\xf0\x9f\x98\x83"#)
    public static let binaryResponse = bytes(
        #"\x00\x7f{"byteorder": "little", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": 37}First 10 bytes of request: binary\xf0\x9f\x98\x83"#)
}
