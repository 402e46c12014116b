extension JSONHeader {
    /// Decodes and validates a JSON header. Any valid JSON object is accepted (key
    /// order, whitespace, escapes); the four required keys must be present with the
    /// right types; `content-length` must be a non-negative JSON integer within `limits`.
    /// Repeated keys: the last wins, as in Python.
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: MessageLimits = MessageLimits())
        throws(MessageError) -> JSONHeader
    {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, maxDepth: 64)
        } catch {
            throw .invalidHeader(error)
        }
        guard case .object(let members) = value else { throw .headerNotObject }
        var byteOrder: String?
        var contentType: String?
        var contentEncoding: String?
        var contentLength: Int?
        var extra: [(key: String, value: JSONValue)] = []
        for (key, member) in members {
            switch key {
            case "byteorder": byteOrder = try string(member, key)
            case "content-type": contentType = try string(member, key)
            case "content-encoding": contentEncoding = try string(member, key)
            case "content-length": contentLength = try length(member, limits: limits)
            default:
                extra.removeAll { $0.key == key }
                extra.append((key, member))
            }
        }
        guard let byteOrder else { throw .missingKey("byteorder") }
        guard let contentType else { throw .missingKey("content-type") }
        guard let contentEncoding else { throw .missingKey("content-encoding") }
        guard let contentLength else { throw .missingKey("content-length") }
        return JSONHeader(
            contentType: ContentType(contentType), contentEncoding: contentEncoding,
            contentLength: contentLength, byteOrder: byteOrder, extra: extra)
    }

    private static func string(_ value: JSONValue, _ key: String) throws(MessageError) -> String {
        guard case .string(let text) = value else { throw .badValue(key: key, reason: "must be a string") }
        return text
    }

    private static func length(_ value: JSONValue, limits: MessageLimits) throws(MessageError) -> Int {
        guard case .number(let text) = value else {
            throw .badContentLength("must be a number, not \(JSONWriter.text(value))")
        }
        if text.hasPrefix("-") { throw .badContentLength("must not be negative (\(text))") }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .badContentLength("must be a whole number (\(text))")
        }
        guard let length = Int(text), length <= limits.maxContentLength else {
            throw .contentTooLong(length: Int(text) ?? Int.max, limit: limits.maxContentLength)
        }
        return length
    }
}
