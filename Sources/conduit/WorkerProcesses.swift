import CShim
import Conduit
import Dispatch
import Foundation
import Glibc
import Synchronization

/// Copies of this executable started as workers (`--processes N`): every process
/// here may open at most 20,000 files, so large runs spread over several. Only these
/// PIDs are ever signalled.
final class WorkerProcesses: Sendable {
    /// Written once, in `init`.
    let processes: [Process]
    /// Environment variable carrying the parent's PID to each worker.
    static let parentVariable = "CONDUIT_PARENT_PID"
    /// True in a process that a `WorkerProcesses` started.
    static var startedByConduit: Bool { ProcessInfo.processInfo.environment[parentVariable] != nil }
    /// Entered per captured stdout, left at its end of file, so no line is lost.
    private let outputs = DispatchGroup()

    /// Starts one worker per argument list; `onLine`, when given, receives each line
    /// a worker prints on stdout (with the worker's index); otherwise workers share our
    /// stdout. Workers always share our stderr. `onExit` is called (on another thread)
    /// whenever a worker ends, however it ends.
    init(
        arguments: [[String]], onLine: (@Sendable (Int, String) -> Void)? = nil,
        onExit: (@Sendable () -> Void)? = nil
    ) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var started: [Process] = []
        for (index, list) in arguments.enumerated() {
            let process = Process()
            process.executableURL = executable
            process.arguments = list
            var environment = ProcessInfo.processInfo.environment
            environment[Self.parentVariable] = String(getpid())
            process.environment = environment
            if let onLine {
                let pipe = Pipe()
                process.standardOutput = pipe
                let reader = LineReader { onLine(index, $0) }
                let outputs = self.outputs
                outputs.enter()
                let handle = pipe.fileHandleForReading
                // A reader thread per worker: a blocking read sees end of file for certain,
                // which a readability handler does not report on every platform.
                Thread {
                    while true {
                        let data = handle.availableData
                        if data.isEmpty { break }
                        reader.feed(data)
                    }
                    reader.finish()
                    outputs.leave()
                }.start()
            }
            if let onExit { process.terminationHandler = { _ in onExit() } }
            try process.run()
            started.append(process)
        }
        processes = started
    }

    /// Sends `signal` to every worker still running.
    func signalAll(_ signal: Int32) {
        for process in processes where process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for every worker and for the end of its output; returns true if all
    /// exited with status 0.
    @discardableResult
    func waitAll() -> Bool {
        var ok = true
        for process in processes {
            process.waitUntilExit()
            ok = ok && process.terminationReason == .exit && process.terminationStatus == 0
        }
        outputs.wait()
        return ok
    }

    /// True if any worker has already exited.
    var anyExited: Bool { processes.contains { !$0.isRunning } }

    /// The first worker found to have exited: its PID and how it ended.
    var firstExited: (pid: Int32, how: String)? {
        guard let process = processes.first(where: { !$0.isRunning }) else { return nil }
        let how = process.terminationReason == .uncaughtSignal
            ? "by signal \(process.terminationStatus)" : "with status \(process.terminationStatus)"
        return (process.processIdentifier, how)
    }
}

/// Splits a byte stream into lines (fed from a reader thread).
final class LineReader: Sendable {
    private let pending = Locked(Data())
    private let onLine: @Sendable (String) -> Void

    init(onLine: @escaping @Sendable (String) -> Void) { self.onLine = onLine }

    func feed(_ data: Data) {
        let lines: [String] = pending.withLock { pending in
            pending.append(data)
            var lines: [String] = []
            while let newline = pending.firstIndex(of: 0x0a) {
                lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending.removeSubrange(pending.startIndex...newline)
            }
            return lines
        }
        for line in lines { onLine(line) }
    }

    func finish() {
        let rest: Data = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        if !rest.isEmpty { onLine(String(decoding: rest, as: UTF8.self)) }
    }
}

/// Makes this worker process stop (SIGTERM, handled gracefully) when the process that
/// started it goes away, even by SIGKILL, so no worker is ever left behind.
func stopWhenParentExits() {
    _ = cshim_die_with_parent(SIGTERM)
    // The parent may have gone before the request took effect (a slow start): it told
    // us its PID, so compare with that rather than with whoever adopted us since.
    if let expected = ProcessInfo.processInfo.environment[WorkerProcesses.parentVariable].flatMap(Int32.init),
        getppid() != expected
    {
        exit(1)
    }
}

/// Binds (without listening) a socket with `SO_REUSEPORT` to `address`, as the workers'
/// listeners will be: this fails at once, with the kernel's reason, when another
/// process holds the port, before any worker starts; for port 0 it learns a free port
/// for the workers to share. Keep it open until they listen: it holds the port for them.
func reservePort(_ address: SocketAddress) throws(SocketError) -> (port: Int, descriptor: Int32) {
    // With SO_REUSEPORT the bind below would join another server's listener; a probe
    // without it fails if anything listens there.
    if address.port != 0 { try Server.checkPortIsFree(address) }
    let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SocketError(code: errno, operation: "socket") }
    var one: Int32 = 1
    // The same options as the workers' listeners, so a port in TIME_WAIT is no obstacle.
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
    if address.family == AF_INET6 {
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    var bound = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let ok = address.withSockAddr { bind(fd, $0, $1) == 0 }
        && withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
    guard ok else {
        let error = SocketError(code: errno, operation: "bind")
        close(fd)
        throw error
    }
    // sin_port and sin6_port sit at the same offset, in network order.
    let port = withUnsafeBytes(of: &bound) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
    return (Int(port), fd)
}
