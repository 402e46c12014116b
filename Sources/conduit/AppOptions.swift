import ArgumentParser
import ConduitApp
import ConduitMessage

extension LogLevel: ExpressibleByArgument {}

/// Limits on incoming messages, shared by the app server and client.
struct LimitOptions: ParsableArguments {
    @Option(help: "Largest JSON header accepted, in bytes (\(FlagRange.headerBytes.typed)).")
    var maxHeaderBytes = MessageLimits().maxHeaderBytes
    @Option(help: "Largest content-length accepted, in bytes.")
    var maxContentLength = MessageLimits().maxContentLength

    var limits: MessageLimits { MessageLimits(maxHeaderBytes: maxHeaderBytes, maxContentLength: maxContentLength) }

    func validate() throws {
        try maxHeaderBytes.validate("--max-header-bytes", in: FlagRange.headerBytes)
        guard maxContentLength >= 0 else { throw ValidationError("--max-content-length must not be negative") }
    }
}

/// `--log-level`.
struct LogOptions: ParsableArguments {
    @Option(help: "debug (bytes sent), info (connections and requests), warning or error.")
    var logLevel: LogLevel = .info

    var log: AppLog { AppLog(level: logLevel) { say($0) } }
}
