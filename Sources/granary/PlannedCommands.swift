import ArgumentParser

/// Commands whose interface is fixed but whose engine is still being built: they say so and
/// exit 1 instead of pretending to work. Each names the capability it waits for.
struct NotImplementedYet: Error, CustomStringConvertible {
    let command: String
    let capability: String
    var description: String { "granary \(command) is not implemented yet (it arrives with the \(capability))" }
}

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Put, get and remove blobs in the chunk store directly (put, get, rm)."
    )
    @OptionGroup var common: CommonOptions
    @Argument(parsing: .captureForPassthrough) var rest: [String] = []
    func run() async throws { throw NotImplementedYet(command: "store", capability: "storage engine") }
}

struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Reclaim space of unreferenced chunks by compacting packs, online."
    )
    @OptionGroup var common: CommonOptions
    func run() async throws { throw NotImplementedYet(command: "gc", capability: "maintenance work (GC)") }
}

struct FsckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check the store: references, refcounts, pack records; --scrub re-hashes every chunk."
    )
    @OptionGroup var common: CommonOptions
    func run() async throws { throw NotImplementedYet(command: "fsck", capability: "maintenance work (fsck)") }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print logical and stored bytes, dedup ratio, packs and dead bytes."
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Print one JSON object.") var json = false
    func run() async throws { throw NotImplementedYet(command: "stats", capability: "storage engine") }
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure: ingest throughput of the store, upload and metadata load against any Glance v2 endpoint."
    )
    @OptionGroup var common: CommonOptions
    @Argument(parsing: .captureForPassthrough) var rest: [String] = []
    func run() async throws { throw NotImplementedYet(command: "bench", capability: "storage engine and load generator") }
}

struct VerifyExternalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-external",
        abstract: "Re-fetch every external artifact location and report ok, changed or unreachable."
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Print one JSON object per blob.") var json = false
    func run() async throws { throw NotImplementedYet(command: "verify-external", capability: "artifacts API") }
}
