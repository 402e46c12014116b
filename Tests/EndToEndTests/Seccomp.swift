import ConduitTestSupport
import Foundation

/// `Tests/Faults/seccomp-run`, built once per test run: runs a command under a seccomp
/// filter that refuses io_uring system calls (see the C file for its options).
enum Seccomp {
    /// The built runner, or why it could not be built (no C compiler).
    static let runner: Result<URL, Error> = Result {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Faults/seccomp-run.c")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-seccomp-run-\(getpid())")
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-O2", "-o", output.path, source.path]
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else { throw SeccompError.buildFailed(compiler.terminationStatus) }
        return output
    }

    enum SeccompError: Error { case buildFailed(Int32) }

    /// Runs `conduit arguments…` under the filter `options` describe, to completion.
    static func runConduit(_ options: [String], _ arguments: [String], seconds: Double = Double(HangGuard.seconds))
        throws -> RunResult
    {
        try ChildProcess(executable: runner.get(), options + ["--", conduitBinary.path] + arguments).finish(seconds: seconds)
    }
}
