import ArgumentParser
import Foundation
import GranaryArtifactsAPI
import GranaryCatalog
import GranaryIndex

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

    struct Line: Encodable {
        let artifact: String
        let type: String
        let blob: String
        let url: String
        let status: String
    }

    func run() async throws {
        let settings = try await Settings.load(common: common)
        let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
        let catalog = try ArtifactCatalog(store: store)
        let fetcher = ExternalFetcher(policy: settings.externalFetch)
        var problems = 0
        for (artifact, slot, blob) in try catalog.externalBlobs() {
            guard let url = blob.url else { continue }
            var status = "ok"
            var detail = ""
            do {
                let fetched = try await fetcher.fetch(url, cap: Int.max)
                if fetched.sha256 != blob.sha256 || fetched.size != blob.size {
                    status = "changed"
                    detail = "now \(fetched.size) bytes, sha256 \(fetched.sha256); recorded \(blob.size ?? -1) bytes, sha256 \(blob.sha256 ?? "none")"
                }
            } catch {
                status = "unreachable"
                detail = "\(error)"
            }
            if status != "ok" { problems += 1 }
            if json {
                try printJSON(Line(artifact: artifact.id, type: artifact.typeName, blob: slot.description, url: url, status: status))
            } else {
                print("\(status) \(artifact.typeName)/\(artifact.id) \(slot) \(url)\(detail.isEmpty ? "" : ": " + detail)")
            }
            if !detail.isEmpty { FileHandleOutput.standardError("granary verify-external: \(artifact.id) \(slot): \(detail)") }
        }
        if problems > 0 { throw ExitCode(1) }
    }
}
