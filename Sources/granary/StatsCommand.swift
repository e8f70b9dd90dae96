import ArgumentParser
import GranaryImagesAPI
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

    struct Report: Encodable {
        let blobs: Int
        let logicalBytes: Int
        let storedBytes: Int
        let chunks: Int
        let packs: Int
        let deadBytes: Int
        let dedupRatio: Double
        enum CodingKeys: String, CodingKey {
            case blobs, chunks, packs
            case logicalBytes = "logical_bytes"
            case storedBytes = "stored_bytes"
            case deadBytes = "dead_bytes"
            case dedupRatio = "dedup_ratio"
        }
    }

    func run() async throws {
        let settings = try await Settings.load(common: common)
        let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
        let stats = try store.stats()
        let ratio = (stats.dedupRatio * 1000).rounded() / 1000
        let lastGC = try store.lastGC()
        if json && detail {
            try printJSON(StatsDocument(stats, lastGC: lastGC))
        } else if json {
            try printJSON(
                Report(
                    blobs: stats.blobs, logicalBytes: stats.logicalBytes, storedBytes: stats.storedBytes,
                    chunks: stats.chunks, packs: stats.packs, deadBytes: stats.deadBytes, dedupRatio: ratio))
        } else {
            print(
                """
                blobs          \(stats.blobs)
                logical bytes  \(stats.logicalBytes)
                stored bytes   \(stats.storedBytes) in \(stats.packs) packs
                chunks         \(stats.chunks)
                dead bytes     \(stats.deadBytes)
                dedup ratio    \(ratio)
                compression    \((stats.compressionRatio * 1000).rounded() / 1000) (raw / stored bytes of live chunks)
                last GC        \(lastGC.map { "reclaimed \($0.reclaimedBytes) bytes from \($0.packsCompacted) packs at \($0.finishedAt) (unix s)" } ?? "never")
                """)
        }
    }
}
