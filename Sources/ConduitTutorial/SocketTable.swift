import Glibc

/// One TCP socket as the kernel lists it in `/proc/net/tcp` and `/proc/net/tcp6`:
/// what `netstat -an` shows.
package struct SocketTableEntry: Sendable, Equatable {
    /// `tcp4` or `tcp6`.
    package var proto: String
    /// Bytes received and not yet read by the application (for a listener: connections
    /// waiting to be accepted).
    package var receiveQueue: Int
    /// Bytes sent and not yet acknowledged by the peer.
    package var sendQueue: Int
    /// Local address (`127.0.0.1:65432`, `*:65432` for any).
    package var local: String
    /// Remote address (`*:*` for a listener).
    package var remote: String
    /// Local port.
    package var localPort: Int
    /// Remote port.
    package var remotePort: Int
    /// The TCP state name (`ESTABLISHED`, `LISTEN`, …).
    package var state: String
}

/// Reads the kernel's TCP socket tables.
package enum SocketTable {
    static let states = [
        1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
        7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV",
    ]

    /// Every TCP socket of this network namespace, IPv4 then IPv6. Reads two files.
    package static func read() -> [SocketTableEntry] {
        parse(contents("/proc/net/tcp"), proto: "tcp4") + parse(contents("/proc/net/tcp6"), proto: "tcp6")
    }

    private static func contents(_ path: String) -> String {
        guard let file = fopen(path, "r") else { return "" }
        defer { fclose(file) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            text += chunk[..<n]
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Parses the text of one table (`proto` is `tcp4` or `tcp6`).
    package static func parse(_ text: String, proto: String) -> [SocketTableEntry] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 4, let state = Int(fields[3], radix: 16) else { return nil }
            let queues = fields[4].split(separator: ":")
            guard queues.count == 2, let send = Int(queues[0], radix: 16), let receive = Int(queues[1], radix: 16),
                let local = address(fields[1]), let remote = address(fields[2])
            else { return nil }
            return SocketTableEntry(
                proto: proto, receiveQueue: receive, sendQueue: send, local: local.text, remote: remote.text,
                localPort: local.port, remotePort: remote.port, state: states[state] ?? "UNKNOWN(\(state))")
        }
    }

    /// Decodes `0100007F:FF98` (the kernel writes the address as 32-bit words in host
    /// order) into text and port.
    static func address(_ field: Substring) -> (text: String, port: Int)? {
        let parts = field.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1], radix: 16) else { return nil }
        let hex = Array(parts[0].utf8)
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for word in stride(from: 0, to: hex.count, by: 8) {
            guard let value = UInt32(String(decoding: hex[word..<word + 8], as: UTF8.self), radix: 16) else { return nil }
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
        let host: String
        if bytes.allSatisfy({ $0 == 0 }) {
            host = "*"
        } else if bytes.count == 4 {
            host = bytes.map(String.init).joined(separator: ".")
        } else {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }
            host = "[" + String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "]"
        }
        let portText = port == 0 && host == "*" ? "*" : String(port)
        return ("\(host):\(portText)", port)
    }

    /// Lines like netstat's, with a header.
    package static func format(_ entries: [SocketTableEntry]) -> String {
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let space = String(repeating: " ", count: max(0, width - text.count))
            return right ? space + text : text + space
        }
        var lines = ["Proto Recv-Q Send-Q  Local Address            Foreign Address          State"]
        for e in entries {
            lines.append(
                "\(pad(e.proto, 5)) \(pad(String(e.receiveQueue), 6, right: true)) \(pad(String(e.sendQueue), 6, right: true))  \(pad(e.local, 24)) \(pad(e.remote, 24)) \(e.state)")
        }
        return lines.joined(separator: "\n")
    }
}
