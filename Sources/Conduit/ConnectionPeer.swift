extension Connection {
    /// The peer as a log shows it: its address (`127.0.0.1:51234`, `[::1]:51234`,
    /// `unix:/run/client.sock`). Most Unix clients never bind a path, so every one of
    /// them would read `unix:(unnamed)`; the process that connected tells them apart:
    /// `unix:(unnamed) pid 4242`. `?` when the address cannot be had (the connection
    /// closed before it was first asked for).
    public var peerDescription: String {
        guard let address = peerAddress else { return "?" }
        if case .unix(let path) = address, path.isUnnamed, let pid = peerProcessID {
            return "\(address) pid \(pid)"
        }
        return address.description
    }
}
