import ArgumentParser
import Foundation
import Glibc

/// `--listen-fd N|systemd`: a socket already bound and listening that the server is
/// handed instead of making its own (socket activation, a supervisor).
enum ListenDescriptor: Equatable {
    /// This descriptor number.
    case number(Int32)
    /// systemd's protocol: `LISTEN_PID` is this process, `LISTEN_FDS` is 1, and the
    /// socket is descriptor 3 (`SD_LISTEN_FDS_START`).
    case systemd

    /// Parses the flag's value; a usage error (exit 64) for anything else. Parsed in
    /// `validate` rather than by the argument parser, whose own error for a bad value
    /// in an option group leaks an allocation that AddressSanitizer's exit check reports.
    init(_ argument: String) throws {
        if argument == "systemd" {
            self = .systemd
        } else if let number = Int32(argument), number >= 0 {
            self = .number(number)
        } else {
            throw ValidationError("--listen-fd takes a descriptor number or 'systemd' (got '\(argument)')")
        }
    }

    /// The descriptor to serve. For `systemd`, checks the environment and then removes
    /// the variables, as `sd_listen_fds(1)` does, so that no process we start takes
    /// them for its own. Throws a one-line failure (exit 1) when they do not fit.
    func resolve() throws -> Int32 {
        switch self {
        case .number(let number):
            return number
        case .systemd:
            let environment = ProcessInfo.processInfo.environment
            guard let count = environment["LISTEN_FDS"] else {
                throw fail("--listen-fd systemd: LISTEN_FDS is not set (was this started by socket activation?)")
            }
            if let pid = environment["LISTEN_PID"], pid != String(getpid()) {
                throw fail("--listen-fd systemd: LISTEN_PID is \(pid), not this process (\(getpid()))")
            }
            guard count == "1" else {
                throw fail("--listen-fd systemd: LISTEN_FDS is \(count); conduit serves exactly one socket")
            }
            for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
            return 3
        }
    }
}
