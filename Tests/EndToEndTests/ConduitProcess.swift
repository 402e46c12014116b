import Conduit
import ConduitTestSupport
import Foundation
import Glibc

/// The built `conduit` binary, next to the test bundle in the build folder.
let conduitBinary: URL = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    // The test bundle may be a directory (`X.xctest/...`); walk up to the build folder.
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("conduit").path),
        directory.path != "/"
    {
        directory = directory.deletingLastPathComponent()
    }
    return directory.appendingPathComponent("conduit")
}()

/// What a finished `conduit` run printed and how it exited.
struct RunResult {
    /// The exit status, or the signal's number when `killedBySignal`.
    var status: Int32
    /// True when a signal's default action ended the process.
    var killedBySignal = false
    var stdout: String
    var stderr: String
}

/// A process started by a test (`conduit`, or a Python peer); only this PID is ever
/// signalled.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""
    private let readers = DispatchGroup()
    /// A signal to send the moment stdout first contains a text (see `signal(_:assoonAs:)`).
    private var trigger: (signal: Int32, text: String)?

    /// Starts `conduit arguments…`, with `environment` added to the test's own.
    convenience init(_ arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(executable: conduitBinary, arguments, environment: environment)
    }

    /// Starts `executable arguments…`, with `environment` added to the test's own.
    init(executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A reader thread per pipe with blocking reads until end of file: Foundation's
        // readability handlers can run while being replaced, which crashed the runner.
        startReader(out.fileHandleForReading) { [weak self] text in self?.appendOutput(text) }
        startReader(err.fileHandleForReading) { [weak self] text in self?.lock.withLock { self?.errText += text } }
    }

    private func startReader(_ handle: FileHandle, _ append: @escaping @Sendable (String) -> Void) {
        readers.enter()
        let readers = self.readers
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                append(String(decoding: data, as: UTF8.self))
            }
            readers.leave()
        }
    }

    private func appendOutput(_ text: String) {
        lock.withLock {
            outText += text
            if let trigger, outText.contains(trigger.text) {
                kill(process.processIdentifier, trigger.signal)
                self.trigger = nil
            }
        }
    }

    /// Sends `number` from the reader thread the moment stdout contains `text`, with
    /// none of the delay of polling for it.
    func signal(_ number: Int32, assoonAs text: String) {
        lock.withLock {
            if outText.contains(text) {
                kill(process.processIdentifier, number)
            } else {
                trigger = (number, text)
            }
        }
    }

    var stdout: String { lock.withLock { outText } }
    var stderr: String { lock.withLock { errText } }

    /// Waits (at most `seconds`) until stdout contains `text`; returns whether it did.
    func waitForOutput(containing text: String, seconds: Double = Double(HangGuard.seconds)) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if stdout.contains(text) { return true }
            if !process.isRunning { return stdout.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// Waits (at most `seconds`) until stderr contains `text`; returns whether it did.
    func waitForError(containing text: String, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// The port from a `Listening on HOST:PORT` line.
    func listeningPort(seconds: Double = Double(HangGuard.seconds)) -> Int? {
        guard waitForOutput(containing: "Listening on ", seconds: seconds) else { return nil }
        let line = stdout.split(separator: "\n").first { $0.hasPrefix("Listening on ") } ?? ""
        return line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }
    }

    /// Sends `signal` to this process only.
    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for exit (killing the process after `seconds`) and returns the result.
    @discardableResult
    func finish(seconds: Double = 30) -> RunResult {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        process.waitUntilExit()
        // Everything the process wrote arrives before end of file; a grandchild that
        // inherited the pipe could hold it open, so the wait is bounded.
        _ = readers.wait(timeout: .now() + 10)
        return RunResult(
            status: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal,
            stdout: stdout, stderr: stderr)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Runs `conduit arguments…` to completion (at most `seconds`), with `environment`
/// added to the test's own.
func runConduit(_ arguments: [String], seconds: Double = 60, environment: [String: String] = [:]) throws -> RunResult {
    try ChildProcess(arguments, environment: environment).finish(seconds: seconds)
}

/// The `--backend` values the command tests run with: every backend this machine can
/// run (`uring` only where its probe works).
let commandBackends = IOBackend.usable.map(\.rawValue)

/// The interoperability peers under Tests/Interop.
let interopDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Interop")

/// Starts `python3 Tests/Interop/<script> arguments…`.
func python(_ script: String, _ arguments: [String]) throws -> ChildProcess {
    try ChildProcess(executable: pythonInterpreter, [interopDirectory.appendingPathComponent(script).path] + arguments)
}

/// The interpreter `python3` runs, itself: a version manager's `python3` (pyenv's shim)
/// is a shell script whose child is the interpreter, so signalling the shim by its PID
/// left the interpreter running, holding the test's pipes until their 10 s timeout.
let pythonInterpreter: URL = {
    let probe = try? ChildProcess(
        executable: URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import sys; print(sys.executable)"])
    let path = probe?.finish(seconds: 30).stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    return URL(fileURLWithPath: path.isEmpty ? "/usr/bin/python3" : path)
}()

/// A loopback port that was free a moment ago.
func freePort() -> Int { freeLoopbackPort() }
