import ArgumentParser
import Conduit

extension IOBackend: ExpressibleByArgument {}

/// Flags every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "I/O backend: shim (the C target) or swift (Glibc called from Swift).")
    var backend: IOBackend = .shim
}

/// The tutorial's defaults.
enum Defaults {
    static let host = "127.0.0.1"
    static let port = 65432
}
