import ArgumentParser
import Conduit
import ConduitTutorial
import Dispatch
import Glibc

/// `conduit stat`: TCP sockets with state, queue sizes and owning process, as the
/// tutorial used netstat and `lsof -i`.
struct StatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "List TCP sockets: state, Recv-Q, Send-Q, addresses and the owning PID/command (like netstat -p, ss -p).",
        discussion: """
            Sockets come from /proc/net/tcp and tcp6; their owners from the socket:[INODE]
            links under /proc/PID/fd, so another user's processes show '-' unless run as root.
            With --watch the table is shown again every second until Ctrl-C (or --count times).
            Unix domain sockets (--unix) are not listed: only the TCP tables are read.
            """
    )

    @Option(help: "Only sockets with this local or remote port.") var port: Int?
    @Option(help: "Only sockets in this state (LISTEN, ESTABLISHED, TIME_WAIT, …).") var state: String?
    @Flag(help: "Refresh once a second until Ctrl-C.") var watch = false
    @Option(help: "With --watch: stop after this many refreshes.") var count: Int?

    /// The state names the kernel's tables use.
    static let states = [
        "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
        "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
    ]

    func validate() throws {
        if let port { try validatePort(port, "--port") }
        if let state, !Self.states.contains(state.uppercased()) {
            throw ValidationError("--state must be one of \(Self.states.joined(separator: ", "))")
        }
        if let count {
            guard watch else { throw ValidationError("--count needs --watch") }
            guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        }
    }

    func run() throws {
        guard watch else { return say(table()) }
        let stop = DispatchSemaphore(value: 0)
        let signals = SignalEvents(SignalEvents.termination) { _, _ in stop.signal() }
        defer { signals.cancel() }
        // On a terminal each table replaces the last, like watch(1); in a pipe they follow
        // one another, a blank line apart.
        let clearScreen = isatty(1) == 1
        let start = DispatchTime.now()
        var shown = 0
        while true {
            if clearScreen {
                FileHandleOutput.standardOutputRaw("\u{1B}[H\u{1B}[2J")
            } else if shown > 0 {
                say("")
            }
            say(table())
            shown += 1
            if let count, shown >= count { return }
            // Ticks on a fixed schedule, so slow scans don't make the refreshes drift.
            if stop.wait(timeout: start + .seconds(shown)) == .success { return }
        }
    }

    /// The table now: the sockets that pass the filters, with their owners.
    func table() -> String {
        let sockets = TCPSocket.readAll().filter { socket in
            (port.map { socket.entry.localPort == $0 || socket.entry.remotePort == $0 } ?? true)
                && (state.map { socket.entry.state == $0.uppercased() } ?? true)
        }
        return Self.format(sockets, owners: sockets.isEmpty ? [:] : SocketOwners.all())
    }

    /// netstat's columns and its `PID/Program name` (`-` when no readable process
    /// holds the socket; several, comma-separated, when processes share it).
    static func format(_ sockets: [TCPSocket], owners: [UInt64: [SocketOwner]]) -> String {
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let space = String(repeating: " ", count: max(0, width - text.count))
            return right ? space + text : text + space
        }
        var lines = ["Proto Recv-Q Send-Q  Local Address            Foreign Address          State       PID/Program name"]
        for socket in sockets {
            let e = socket.entry
            let holders = socket.inode == 0 ? [] : owners[socket.inode] ?? []
            let owner = holders.isEmpty ? "-" : holders.map(\.label).joined(separator: ",")
            lines.append(
                "\(pad(e.proto, 5)) \(pad(String(e.receiveQueue), 6, right: true)) \(pad(String(e.sendQueue), 6, right: true))  \(pad(e.local, 24)) \(pad(e.remote, 24)) \(pad(e.state, 11)) \(owner)")
        }
        return lines.joined(separator: "\n")
    }
}
