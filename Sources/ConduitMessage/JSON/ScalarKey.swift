/// A string as a dictionary key that is equal to another only with the same Unicode
/// scalars (the same UTF-8 bytes). Swift's `String` equality is canonical equivalence,
/// so `"\u{E9}"` and `"e\u{301}"`, or `"K"` and the Kelvin sign, would be one key; JSON
/// peers and Python's `dict` keep them apart. Hashing reads the UTF-8 in place, so a
/// native string costs no allocation.
package struct ScalarKey: Hashable {
    /// The string.
    package let text: String

    /// The key for `text`.
    package init(_ text: String) { self.text = text }

    /// Equal when the UTF-8 bytes are.
    package static func == (lhs: ScalarKey, rhs: ScalarKey) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

    /// Hashes the UTF-8 bytes.
    package func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
