import ArgumentParser
import Foundation
import GranaryCatalog
import GranaryServer
import GranaryStore

/// `granary gc`: reclaim dead chunks' space, online (beside a live server or not).
struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Reclaim space of unreferenced chunks by compacting packs, online.",
        discussion: """
            Works whether or not `granary serve` runs on the same data directory: the two coordinate \
            through LMDB and pack locks. Packs the server still has open for appending are left to \
            the server's own GC (POST /admin/gc). A chunk is reclaimed only after it has been dead \
            for --grace seconds and since before the oldest upload still in flight began.
            """
    )
    @OptionGroup var common: CommonOptions
    @Option(help: "Seconds a chunk must have been dead (default 3600, or gc.grace). 0 reclaims all that is dead now.")
    var grace: Int?
    @Flag(name: .customLong("dry-run"), help: "Report what would be reclaimed; change nothing.")
    var dryRun = false
    @Option(help: "Copy at most this many MB/s (default unlimited, or gc.throttle_mbps).")
    var throttle: Double?
    @Flag(help: "Print one JSON object.") var json = false

    struct Report: Encodable {
        let reclaimedBytes: Int
        let packsCompacted: Int
        let chunksReclaimed: Int
        let seconds: Double
        let dryRun: Bool
        enum CodingKeys: String, CodingKey {
            case reclaimedBytes = "reclaimed_bytes"
            case packsCompacted = "packs_compacted"
            case chunksReclaimed = "chunks_reclaimed"
            case seconds
            case dryRun = "dry_run"
        }
    }

    func validate() throws {
        if let grace, grace < 0 { throw ValidationError("--grace must be 0 or more seconds") }
        if let throttle, throttle <= 0 { throw ValidationError("--throttle must be more than 0 MB/s") }
    }

    func run() async throws {
        let settings = try await Settings.load(common: common)
        let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
        var options = settings.gc.options
        if let grace { options.grace = grace }
        if let throttle { options.throttleBytesPerSecond = Int(throttle * 1e6) }
        options.dryRun = dryRun
        if !store.directory.isExclusive {
            FileHandleOutput.standardError(
                "granary gc: running beside the live process holding \(store.directory.lockPath); its open packs are left alone")
        }
        let bar = ProgressLine(label: dryRun ? "gc (dry run)" : "gc")
        let report = try await store.collectGarbage(options) { progress in
            bar.show(done: progress.bytesDone, total: progress.bytesTotal, detail: "packs \(progress.packsDone)/\(progress.packsTotal)")
        }
        bar.finish()
        for error in report.errors { FileHandleOutput.standardError("granary gc: \(error)") }
        let seconds = (report.seconds * 1000).rounded() / 1000
        if json {
            try printJSON(
                Report(
                    reclaimedBytes: report.reclaimedBytes, packsCompacted: report.packsCompacted,
                    chunksReclaimed: report.chunksReclaimed, seconds: seconds, dryRun: report.dryRun))
        } else {
            print(
                """
                \(dryRun ? "would reclaim" : "reclaimed")  \(report.reclaimedBytes) bytes
                packs compacted  \(report.packsCompacted)\(report.packsBusy > 0 ? " (\(report.packsBusy) busy, left alone)" : "")
                chunks reclaimed \(report.chunksReclaimed)
                bytes copied     \(report.bytesCopied)\(report.chunksCompressed > 0 ? " (\(report.chunksCompressed) chunks compressed)" : "")
                seconds          \(seconds)
                """)
        }
        if !report.errors.isEmpty { throw ExitCode.failure }
    }
}

/// `granary fsck`: check (and repair) the store and the records that hold its blobs.
struct FsckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check the store: references, refcounts, pack records; --scrub re-hashes every chunk.",
        discussion: """
            Marks from every image to its blob and from every blob to its chunks, compares with the \
            stored counts, and reads every pack record, checking its header and CRC32C. Runs from one \
            snapshot, so it may run beside a live server; --repair needs the data directory to itself. \
            Exit status 0 when the store is sound, 1 when problems remain.
            """
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Also decompress and re-hash every chunk (reads all data).") var scrub = false
    @Flag(help: "Fix what the store's own contents allow: counts, chunk rows rebuilt from packs.") var repair = false
    @Flag(help: "Print one JSON object.") var json = false

    struct Report: Encodable {
        let ok: Bool
        let records: Int
        let chunks: Int
        let errors: [String]
        let repaired: [String]
    }

    func run() async throws {
        let settings = try await Settings.load(common: common)
        let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
        let bar = ProgressLine(label: scrub ? "fsck --scrub" : "fsck")
        let total = try store.stats().storedBytes
        let show: (Int) -> Void = { bar.show(done: $0, total: total, detail: "") }

        var report = repair ? try await store.repair(scrub: scrub, progress: show) : try await store.check(scrub: scrub, progress: show)
        bar.finish()
        // Above the store: every blob an image or artifact holds exists and counts at least its holders.
        let catalogs = try await CatalogCheck.run(on: store, repair: repair)
        report.errors += catalogs.errors
        report.repaired += catalogs.repaired
        let records = report.records + catalogs.records
        for line in report.notes { FileHandle.standardError.write(Data("granary fsck: note: \(line)\n".utf8)) }
        if json {
            try printJSON(Report(ok: report.ok, records: records, chunks: report.chunks, errors: report.errors, repaired: report.repaired))
        } else {
            for line in report.repaired { print("repaired: \(line)") }
            for line in report.errors { print("error: \(line)") }
            print(
                "\(report.ok ? "ok" : "PROBLEMS"): \(records) records (\(catalogs.images) images, \(report.records) blobs), \(report.chunks) chunks, "
                    + "\(report.bytesScanned) pack bytes read in \((report.seconds * 100).rounded() / 100) s")
        }
        if !report.ok { throw ExitCode.failure }
    }
}
