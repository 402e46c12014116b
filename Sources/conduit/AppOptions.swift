import ArgumentParser
import ConduitApp
import ConduitMessage

extension LogLevel: ExpressibleByArgument {}

/// Limits on incoming messages, shared by the app server and client.
struct LimitOptions: ParsableArguments {
    @Option(help: "Largest JSON header accepted, in bytes (\(FlagRange.headerBytes.typed)).")
    var maxHeaderBytes = MessageLimits().maxHeaderBytes
    @Option(help: "Largest content-length accepted, in bytes (\(FlagRange.contentLength.typed)).")
    var maxContentLength = MessageLimits().maxContentLength
    @Option(help: "Deepest nesting of arrays and objects in a JSON content (\(FlagRange.jsonDepth.typed)).")
    var maxJsonDepth = MessageLimits().maxContentDepth
    @Option(help: "Most values (at any depth) in a JSON content; bounds the time one request takes (\(FlagRange.jsonValues.typed)).")
    var maxJsonValues = MessageLimits().maxContentValues

    var limits: MessageLimits {
        MessageLimits(
            maxHeaderBytes: maxHeaderBytes, maxContentLength: maxContentLength, maxContentDepth: maxJsonDepth,
            maxContentValues: maxJsonValues)
    }

    /// The same limits as arguments, for worker processes.
    var arguments: [String] {
        [
            "--max-header-bytes", String(maxHeaderBytes), "--max-content-length", String(maxContentLength),
            "--max-json-depth", String(maxJsonDepth), "--max-json-values", String(maxJsonValues),
        ]
    }

    func validate() throws {
        try maxHeaderBytes.validate("--max-header-bytes", in: FlagRange.headerBytes)
        try maxJsonDepth.validate("--max-json-depth", in: FlagRange.jsonDepth)
        try maxJsonValues.validate("--max-json-values", in: FlagRange.jsonValues)
        try maxContentLength.validate("--max-content-length", in: FlagRange.contentLength)
    }
}

/// `--log-level`.
struct LogOptions: ParsableArguments {
    @Option(help: "debug (bytes sent), info (connections and requests), warning or error.")
    var logLevel: LogLevel = .info

    var log: AppLog { AppLog(level: logLevel) { say($0) } }
}
