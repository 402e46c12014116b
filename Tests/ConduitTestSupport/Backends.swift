import Conduit
import Testing

/// Ends the current test case as skipped, saying why, when `backend` cannot run in this
/// process (io_uring blocked by a seccomp profile, disabled by the kernel, too old):
/// the tests run on `IOBackend.allCases`, and a backend the machine refuses is not a
/// failure of the code under test.
public func requireUsable(_ backend: IOBackend) throws {
    guard backend == .uring, let reason = IOBackend.uringUnavailableReason else { return }
    try Test.cancel("io_uring is not available here: \(reason)")
}
