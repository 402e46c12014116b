extension JSONHeader {
    /// Decodes and validates a JSON header. Any valid JSON object is accepted (key
    /// order, whitespace, escapes); the four required keys must be present with the
    /// right types; `content-length` must be a non-negative JSON integer within `limits`.
    /// Repeated keys: the last wins, as in Python.
    ///
    /// Reads the object in one pass without building a tree: the four known keys are
    /// recognized from their raw bytes, so a typical header allocates nothing but its
    /// longer strings. Anything unusual (not an object at all) takes the reference path.
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: MessageLimits = MessageLimits())
        throws(MessageError) -> JSONHeader
    {
        if let header = CanonicalHeader.decode(bytes, limits: limits) { return header }
        guard UTF8Validation.isValid(bytes) else {
            throw .invalidHeader(JSONError(offset: UTF8Validation.firstInvalidOffset(bytes), reason: "invalid UTF-8"))
        }
        var scanner = HeaderScanner(parser: JSONParser(bytes: bytes, maxDepth: 64), limits: limits)
        do {
            guard let header = try scanner.scan() else { return try referenceDecode(bytes, limits: limits) }
            return header
        } catch let error as MessageError {
            throw error
        } catch let error as JSONError {
            throw .invalidHeader(error)
        } catch {
            preconditionFailure("unexpected \(error)")
        }
    }

    /// The same validation through a full `JSONValue` tree: simpler and slower, kept as
    /// the reference the one-pass decoder is checked against (tests and the fuzzer).
    @_spi(Reference) public static func referenceDecode(_ bytes: UnsafeRawBufferPointer, limits: MessageLimits = MessageLimits())
        throws(MessageError) -> JSONHeader
    {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, maxDepth: 64)
        } catch {
            throw .invalidHeader(error)
        }
        guard case .object(let members) = value else { throw .headerNotObject }
        var fields = HeaderFields()
        var extra: [(key: String, value: JSONValue)] = []
        for (key, member) in members where !fields.take(key, member, limits: limits) {
            extra.append((key, member))
        }
        return try fields.header(extra: lastOccurrences(extra))
    }

    static func string(_ value: JSONValue, _ key: String) throws(MessageError) -> String {
        guard case .string(let text) = value else { throw .badValue(key: key, reason: "must be a string") }
        return text
    }

    static func length(_ value: JSONValue, limits: MessageLimits) throws(MessageError) -> Int {
        guard case .number(let text) = value else {
            throw .badContentLength("must be a number, not \(JSONWriter.text(value))")
        }
        if text.hasPrefix("-") { throw .badContentLength("must not be negative (\(text))") }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .badContentLength("must be a whole number (\(text))")
        }
        guard let length = Int(text) else {
            throw .badContentLength("\(text) is larger than any length this side can count")
        }
        guard length <= limits.maxContentLength else {
            throw .contentTooLong(length: length, limit: limits.maxContentLength)
        }
        return length
    }
}

extension JSONHeader {
    /// The members in the order of their last occurrences, each key once with its last
    /// value (a repeated key counts where it last appears), in linear time: removing the
    /// earlier copy of each repeated key as it came made a header of many keys cost
    /// quadratic time on the loop.
    static func lastOccurrences(_ members: [(key: String, value: JSONValue)]) -> [(key: String, value: JSONValue)] {
        guard members.count > 1 else { return members }
        // Keyed by scalars: canonically equivalent spellings are different keys to Python.
        var last: [ScalarKey: Int] = [:]
        last.reserveCapacity(members.count)
        for (index, member) in members.enumerated() { last[ScalarKey(member.key)] = index }
        if last.count == members.count { return members }
        return members.enumerated().compactMap { last[ScalarKey($0.element.key)] == $0.offset ? $0.element : nil }
    }
}
