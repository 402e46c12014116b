import Conduit
import Foundation
import Testing

/// Where io_uring cannot run (disabled by `kernel.io_uring_disabled`, blocked by a
/// seccomp profile, a kernel too old), `--backend uring` says so in one line and
/// `--backend auto` runs on epoll. The probe is made to fail through the environment
/// (`CONDUIT_URING_UNAVAILABLE`), as it would on such a machine.
@Suite("io_uring unavailable: one clear line, and auto falls back to epoll")
struct UringFallbackTests {
    static let unavailable = ["CONDUIT_URING_UNAVAILABLE": "io_uring_setup: Operation not permitted"]

    @Test(arguments: [
        ["echo-server", "127.0.0.1", "0"], ["app-server", "127.0.0.1", "0"], ["load", "--duration", "1s"],
    ])
    func uringWhereItCannotRunIsOneLine(arguments: [String]) throws {
        let result = try runConduit(arguments + ["--backend", "uring"], seconds: 30, environment: Self.unavailable)
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "conduit: --backend uring cannot run here (io_uring_setup: Operation not permitted); use --backend shim, or auto to pick uring only where it works\n"
        )
        #expect(result.stdout.isEmpty)
    }

    @Test func autoRunsOnEpollWhereUringCannotRun() throws {
        let result = try runConduit(
            ["load", "--backend", "auto", "--duration", "1s", "--connections", "4"], seconds: 60,
            environment: Self.unavailable)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("backend: shim"), "\(result.stdout)")
    }

    /// And where it can, `auto` is `uring` (on machines without io_uring, `shim`).
    @Test func autoRunsOnUringWhereItCan() throws {
        let result = try runConduit(["load", "--backend", "auto", "--duration", "1s", "--connections", "4"], seconds: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("backend: \(IOBackend.automatic)"), "\(result.stdout)")
        #expect(result.stdout.contains("errors: 0"), "\(result.stdout)")
    }
}
