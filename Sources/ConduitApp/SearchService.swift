import ConduitMessage

/// The tutorial's `search` action: a tiny fixed lookup table.
package enum SearchService {
    /// The table, as in the tutorial.
    package static let table: [String: String] = [
        "morpheus": "Follow the white rabbit. 🐰",
        "ring": "In the caves beneath the Misty Mountains. 💍",
        "🐶": "🐾 Playing ball! 🏐",
    ]

    /// Looks up `request["value"]`: the answer, or the tutorial's `No match for 'VALUE'.`
    /// (with Python's str() of the value: `None` when absent).
    /// The table's keys as bytes, for requests read in place.
    private static let byteKeys: ByteKeyTable<String> = table.reduce(into: ByteKeyTable()) { $0.set($1.key, $1.value) }

    /// Looks up a request read in place: a plain `value` string is compared by its
    /// bytes; anything else (escapes, no match by bytes) takes the general lookup,
    /// which also compares by canonical equivalence as the table's `String` keys do.
    package static func search(_ request: JSONObjectView) -> JSONValue {
        if let raw = request.plainString(asciiKey: "value"), let answer = byteKeys[raw] { return .string(answer) }
        return search(parsed: request)
    }

    /// Works on a request read in place (`JSONObjectView`) or parsed (`JSONValue`).
    package static func search(parsed request: some JSONMemberLookup) -> JSONValue {
        let query = request["value"] ?? .null
        if let key = query.stringValue, let answer = table[key] { return .string(answer) }
        guard let shown = PythonText.str(query) else {
            return .string("No match for a value whose text is over \(PythonText.showLimit) bytes.")
        }
        return .string("No match for '\(shown)'.")
    }
}

/// The tutorial's answer to any binary request: `First 10 bytes of request: ` and the
/// first 10 bytes of its content, as `binary/custom-server-binary-type`.
package enum BinaryResponder {
    /// The response content type.
    package static let contentType = "binary/custom-server-binary-type"

    /// Builds the answer for `content`.
    package static func respond(_ header: JSONHeader, _ content: UnsafeRawBufferPointer) -> Response {
        var answer = Array("First 10 bytes of request: ".utf8)
        answer.append(contentsOf: content.prefix(10))
        return .binary(contentType: contentType, content: answer)
    }
}
