import ArgumentParser
import Foundation
import GranaryArtifactsAPI
import GranaryCatalog
import GranaryFetch
import GranaryIndex
import GranaryServer

/// `granary verify-external`: re-fetches every external artifact location under the same
/// rules as when it was set and compares the bytes with what was recorded.
struct VerifyExternalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-external",
        abstract: "Re-fetch every external artifact location and report ok, changed or unreachable.",
        discussion: """
            Prints one JSON object per blob with --json: {"artifact","type","blob","url","status"}. Exit status 1 when any \
            blob is not ok. Safe beside a running server (it only reads the index).
            """
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Print one JSON object per blob.") var json = false

    func run() async throws {
        let settings = try await Settings.load(common: common)
        let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
        let catalog = try ArtifactCatalog(store: store)
        let fetcher = ExternalFetcher(policy: settings.externalFetch)
        let checks = try await ExternalVerifier.verify(catalog, with: fetcher)
        for check in checks {
            if json {
                try printJSON(check)
            } else {
                print("\(check.status) \(check.type)/\(check.artifact) \(check.blob) \(check.url)\(check.detail.isEmpty ? "" : ": " + check.detail)")
            }
            if !check.detail.isEmpty { FileHandleOutput.standardError("granary verify-external: \(check.artifact) \(check.blob): \(check.detail)") }
        }
        let problems = checks.filter { $0.status != "ok" }.count
        if problems > 0 { throw ExitCode(1) }
    }
}
