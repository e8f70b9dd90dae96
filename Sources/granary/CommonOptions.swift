import ArgumentParser
import Foundation

/// Options every command shares, spelled the same everywhere.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "The data directory (default ./data).")
    var data: String?

    @Option(name: .customLong("config"), help: "A JSON configuration file.")
    var config: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?
}

/// Writes to standard error (reports go to stdout, humans read stderr).
enum FileHandleOutput {
    static func standardError(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        FileHandle.standardError.write(Data(line.utf8))
    }
}
