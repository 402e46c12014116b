import Conduit
import ConduitTutorial
import Foundation
import Glibc

/// A TCP socket from `/proc/net/tcp` or `tcp6`, with the inode that names it under
/// `/proc/PID/fd` (`socket:[INODE]`).
struct TCPSocket {
    var entry: SocketTableEntry
    /// 0 for sockets no descriptor refers to any more (`TIME_WAIT`, orphans).
    var inode: UInt64

    /// Every TCP socket of this network namespace, IPv4 then IPv6.
    static func readAll() -> [TCPSocket] {
        parse(contents("/proc/net/tcp"), proto: "tcp4") + parse(contents("/proc/net/tcp6"), proto: "tcp6")
    }

    /// Parses one table. Each line goes through `SocketTable.parse` on its own, so the
    /// entry and the inode (column 10, which `SocketTableEntry` does not carry) always
    /// come from the same line of the same read.
    static func parse(_ text: String, proto: String) -> [TCPSocket] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, let inode = UInt64(fields[9]),
                let entry = SocketTable.parse("header\n" + line, proto: proto).first
            else { return nil }
            return TCPSocket(entry: entry, inode: inode)
        }
    }

    private static func contents(_ path: String) -> String {
        // /proc files report a size of 0, so read to the end rather than by size.
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }
}

/// A process holding a socket open.
struct SocketOwner: Equatable {
    var pid: Int32
    /// The kernel's name for the process (`/proc/PID/comm`, at most 15 characters), as
    /// `ss -p`, `netstat -p` and `lsof` show it.
    var command: String

    /// `PID/command`, netstat's form.
    var label: String { "\(pid)/\(command)" }
}

/// Finds which processes hold which sockets, the way `ss -p` and `lsof -i` do: every
/// `/proc/PID/fd/N` that is a socket links to `socket:[INODE]`. Processes whose
/// descriptors we may not read (another user's, without root) are skipped.
enum SocketOwners {
    /// Socket inode to the processes holding it (several after a fork), by PID.
    static func all() -> [UInt64: [SocketOwner]] {
        var owners: [UInt64: [SocketOwner]] = [:]
        for pid in processIDs() {
            let inodes = socketInodes(of: pid)
            guard !inodes.isEmpty else { continue }
            let owner = SocketOwner(pid: pid, command: command(of: pid))
            for inode in inodes where owners[inode]?.last != owner { owners[inode, default: []].append(owner) }
        }
        return owners
    }

    /// The PIDs under /proc, in ascending order.
    static func processIDs() -> [Int32] {
        entries(of: "/proc").compactMap { Int32($0) }.sorted()
    }

    /// The inodes of the sockets `pid` has open (empty if it is gone or not readable).
    static func socketInodes(of pid: Int32) -> Set<UInt64> {
        var inodes = Set<UInt64>()
        var target = [CChar](repeating: 0, count: 64)
        for name in entries(of: "/proc/\(pid)/fd") {
            let length = readlink("/proc/\(pid)/fd/\(name)", &target, target.count)
            guard length > 0 else { continue }
            let text = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("socket:["), text.hasSuffix("]"), let inode = UInt64(text.dropFirst(8).dropLast()) {
                inodes.insert(inode)
            }
        }
        return inodes
    }

    static func command(of pid: Int32) -> String {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
        let name = text.trimmingCharacters(in: .newlines)
        return name.isEmpty ? "?" : name
    }

    /// The names in a directory except `.` and `..` (none if it cannot be read).
    private static func entries(of path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
