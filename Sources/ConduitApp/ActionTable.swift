import ConduitMessage

/// A router's actions keyed by the UTF-8 bytes of their names. Routers hold a few
/// actions, so a list compared by length and bytes beats hashing a `String` made from
/// the request (about 300 instructions for SipHash alone).
typealias ActionTable = ByteKeyTable<Router.Action>
