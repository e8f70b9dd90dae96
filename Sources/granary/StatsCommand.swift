import ArgumentParser
import GranaryServer
import GranaryStore

/// `granary stats`: what the store holds and how well it dedups.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print logical and stored bytes, dedup ratio, chunks, packs and dead bytes.",
        discussion: "--json prints the fixed report; --json --detail adds compression, dead bytes per pack and the last GC run."
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "With --json: add compression_ratio, pack_details and last_gc.") var detail = false

    func run() async throws {
        let settings = try await Settings.load(common: common)
        let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
        let stats = try store.stats()
        let lastGC = try store.lastGC()
        if json {
            try printJSON(StatsReport(stats, lastGC: lastGC, detail: detail))
        } else {
            print(
                """
                blobs          \(stats.blobs)
                logical bytes  \(stats.logicalBytes)
                stored bytes   \(stats.storedBytes) in \(stats.packs) packs
                chunks         \(stats.chunks)
                dead bytes     \(stats.deadBytes)
                dedup ratio    \(StatsReport.rounded(stats.dedupRatio))
                compression    \(StatsReport.rounded(stats.compressionRatio)) (raw / stored bytes of live chunks)
                last GC        \(lastGC.map { "reclaimed \($0.reclaimedBytes) bytes from \($0.packsCompacted) packs at \($0.finishedAt) (unix s)" } ?? "never")
                """)
        }
    }
}
