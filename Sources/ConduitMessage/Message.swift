/// One decoded message: its header and a view of its content.
///
/// `content` points into the receive buffer (zero copy) and is valid only during the
/// callback that receives the message; copy it to keep it.
public struct Message {
    /// The JSON header.
    public let header: JSONHeader
    /// The content bytes, exactly `header.contentLength` of them.
    public let content: UnsafeRawBufferPointer
    /// Bytes of the whole message on the wire (proto header + JSON header + content).
    public let wireSize: Int
}
