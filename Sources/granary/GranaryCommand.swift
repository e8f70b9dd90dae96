import ArgumentParser
import GranaryServer

/// `granary`: the server and every operator tool, one binary.
struct GranaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "granary",
        abstract: "An image and artifact repository: Glance v2 and Glare-style APIs on a deduplicating chunk store.",
        discussion: """
            Every command takes --data DIR (default ./data) and --config FILE. Settings are layered: \
            the JSON config file, then GRANARY_* environment variables, then flags. \
            Exit status: 0 success, 1 the operation failed or found problems, 2 usage error.
            """,
        subcommands: [
            ServeCommand.self, StoreCommand.self, GCCommand.self, FsckCommand.self, StatsCommand.self,
            BenchCommand.self, VerifyExternalCommand.self, MetadefsCommand.self, DebugCommand.self,
        ]
    )
}
