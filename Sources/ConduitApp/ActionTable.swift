import ConduitMessage

/// A router's actions keyed by the UTF-8 bytes of their names. Routers hold a few
/// actions, so a list compared by length and bytes beats hashing a `String` made from
/// the request (about 300 instructions for SipHash alone).
struct ActionTable: Sendable {
    private var entries: [(name: [UInt8], action: Router.Action)] = []

    /// Adds `action` under `name`, or replaces the one there.
    mutating func set(_ name: String, _ action: Router.Action) {
        let bytes = Array(name.utf8)
        if let index = entries.firstIndex(where: { $0.name == bytes }) {
            entries[index].action = action
        } else {
            entries.append((bytes, action))
        }
    }

    /// The action whose name is exactly these bytes.
    subscript(name: UnsafeRawBufferPointer) -> Router.Action? {
        for entry in entries {
            let equal = entry.name.withUnsafeBytes { RawBytes.equals($0, name) }
            if equal { return entry.action }
        }
        return nil
    }
}
