/// Which implementation of the socket system calls an event loop uses.
///
/// Both backends run the same algorithm (the same loop, buffers and write path);
/// they differ only in how a system call is made, so comparing them measures the
/// language boundary and nothing else.
public enum IOBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Calls go through the `CShim` C target (`cshim_recv`, `cshim_epoll_wait`, …).
    case shim
    /// The same calls made directly to Glibc from Swift.
    case swift

    /// The backend's name as typed on the command line.
    public var description: String { rawValue }
}
