import CShim
import Glibc

/// Which implementation of the socket system calls an event loop uses.
///
/// `shim` and `swift` run the same epoll algorithm (the same loop, buffers and write
/// path) and differ only in how a system call is made, so comparing them measures the
/// language boundary and nothing else. `uring` receives through an io_uring ring the C
/// target drives: the kernel fills receive buffers it picks from a shared pool and
/// reports them in batches, so a loop turn makes one system call for all the input of
/// all its connections (see `DESIGN.md`, "The io_uring backend").
public enum IOBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Calls go through the `CShim` C target (`cshim_recv`, `cshim_epoll_wait`, …).
    case shim
    /// The same calls made directly to Glibc from Swift.
    case swift
    /// Input through an io_uring ring (multishot receive into provided buffers), the
    /// rest through the shim's calls. Needs Linux 6.1 or later with io_uring allowed:
    /// check `IOBackend.uringUnavailableReason` first.
    case uring

    /// The backend's name as typed on the command line.
    public var description: String { rawValue }

    /// Why the `uring` backend cannot run in this process, or nil when it can. Found
    /// once by setting up a small ring and receiving a byte through it exactly as the
    /// backend does, so a kernel with io_uring disabled (`kernel.io_uring_disabled`),
    /// a seccomp profile that blocks it, or a kernel too old for a feature it uses all
    /// give a reason here rather than a failure later. Setting the environment variable
    /// `CONDUIT_URING_UNAVAILABLE` to a reason makes the probe fail with it (to test
    /// what a program does without io_uring).
    public static var uringUnavailableReason: String? { uringProbe.reason }

    /// The best backend this process can run: `uring` where its probe succeeded, else
    /// `shim`.
    public static var automatic: IOBackend { uringUnavailableReason == nil ? .uring : .shim }

    /// The backends this process can run (all three, or `shim` and `swift` where
    /// io_uring is unavailable).
    public static var usable: [IOBackend] { allCases.filter { $0 != .uring || uringUnavailableReason == nil } }
}

/// The result of the one io_uring probe a process makes.
private let uringProbe = UringProbe()

private struct UringProbe: Sendable {
    let reason: String?

    init() {
        if let forced = getenv("CONDUIT_URING_UNAVAILABLE"), forced.pointee != 0 {
            reason = String(cString: forced)
            return
        }
        // At the size every loop's ring has: a limit that refuses only a large ring
        // (locked memory, a memory cgroup) must make the probe fail too.
        let size = Ring.Configuration.standard
        var text = [CChar](repeating: 0, count: 256)
        let result = cshim_ring_probe(size.entries, size.bufferCount, size.bufferSize, &text, text.count)
        reason = result == 0 ? nil : String(cCharacters: text)
    }
}

extension String {
    /// The text of a NUL-terminated C buffer (up to its first NUL), as UTF-8.
    init(cCharacters characters: [CChar]) {
        self = String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
