import Conduit
import ConduitTestSupport
import Foundation
import Glibc
import Testing

/// A kernel or seccomp profile that lets the io_uring probe through but refuses the
/// real ring (here: io_uring_enter and io_uring_register refused on descriptors from 5
/// on; a conduit process has its signalfd at 3 and the probe's ring at 4): the tool
/// fails with one line or falls back, and never traps. Before, the server stopped at a
/// precondition, and the crash report then waited for the status signal's thread.
@Suite("io_uring refused after the probe passed")
struct UringRefusedTests {
    static let refusedFromFive = ["--from-fd", "5"]

    @Test(arguments: [
        ["app-server", "127.0.0.1", "0"], ["multiconn-server", "127.0.0.1", "0"], ["load", "--duration", "1s"],
    ])
    func uringIsOneLineAndExitOne(arguments: [String]) throws {
        try requireUsable(.uring)
        let result = try Seccomp.runConduit(Self.refusedFromFive, arguments + ["--backend", "uring"])
        #expect(result.status == 1 && !result.killedBySignal, "\(result)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("conduit: ") == true && lines.first?.contains("io_uring") == true, "\(result.stderr)")
    }

    @Test func autoFallsBackToShim() throws {
        try requireUsable(.uring)
        let result = try Seccomp.runConduit(
            Self.refusedFromFive, ["load", "--backend", "auto", "--duration", "1s", "--connections", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("backend: shim"), "\(result.stdout)")
        #expect(result.stdout.contains("errors: 0"), "\(result.stdout)")
    }

    /// The kernel answering the real ring's io_uring_enter with EEXIST (a thread that
    /// is not the ring's issuer: a bug of ours) stops the server at a precondition. The
    /// crash is reported and the process ends at once, with no status line: the status
    /// signal (SIGUSR1) is read from a signalfd with it blocked, so the runtime's crash
    /// handler pauses that thread with SIGPROF. Before, the thread waited in
    /// sigwaitinfo, took the runtime's SIGUSR1 as a status request, and the process hung.
    @Test func aCrashIsNotHeldUpByTheStatusSignal() throws {
        try requireUsable(.uring)
        if let sanitizer = ProcessInfo.processInfo.environment["CONDUIT_SANITIZER"] {
            // Under a sanitizer the runtime's crash reporter (swift-backtrace) waits on
            // the crashed process's memory server for its full timeout while holding the
            // output pipe, and the sanitizer's own report is what one reads there anyway.
            try Test.cancel("the Swift runtime's crash report is not exercised under the \(sanitizer) sanitizer")
        }
        let result = try Seccomp.runConduit(
            ["--refuse", "enter", "--errno", "\(EEXIST)"] + Self.refusedFromFive,
            ["app-server", "127.0.0.1", "0", "--backend", "uring"])
        #expect(result.killedBySignal, "\(result)")
        #expect(result.stderr.contains("not the ring's issuer"), "\(result.stderr.prefix(1000))")
        #expect(!result.stderr.contains("conduit: "), "no status line: \(result.stderr.prefix(1000))")
    }
}
