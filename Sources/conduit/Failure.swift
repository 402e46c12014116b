import ArgumentParser
import Conduit
import Glibc

/// Prints one clear line to stderr and fails with exit code 1: what users see
/// instead of a stack trace.
func fail(_ message: String) -> ExitCode {
    FileHandleOutput.standardError("conduit: \(message)")
    return ExitCode.failure
}

/// The line for a connection that could not be made to `address`.
func connectFailure(_ error: SocketError, to address: SocketAddress) -> String {
    if error.kind == .connectionRefused { return "connection refused: is a server listening on \(address)?" }
    if !address.isIP && error.code == ENOENT { return "no socket at \(address): is a server listening there?" }
    return "cannot connect to \(address): \(error.reason)"
}

/// Resolves a host and port from the command line, or exits with a clear line.
func resolve(host: String, port: Int) throws -> SocketAddress {
    do {
        return try SocketAddress.resolve(host: host, port: port)
    } catch {
        throw fail(error.description)
    }
}

/// Writes whole lines straight to a descriptor: no buffering, so a pipe (or a test)
/// sees each log line as it happens, and lines from several threads never interleave.
enum FileHandleOutput {
    static func standardOutput(_ line: String) { write(line + "\n", to: 1) }
    static func standardError(_ line: String) { write(line + "\n", to: 2) }
    /// `text` as it is, with no newline added (terminal control sequences).
    static func standardOutputRaw(_ text: String) { write(text, to: 1) }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// Prints a line to stdout at once (see `FileHandleOutput`).
func say(_ line: String) { FileHandleOutput.standardOutput(line) }
