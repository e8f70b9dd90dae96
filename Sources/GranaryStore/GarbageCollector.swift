import Dispatch
import Foundation
import GranaryCodec
import GranaryLMDB
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What a GC run may do.
package struct GCOptions: Sendable {
    /// A dead chunk is reclaimed only after it has been dead this many seconds.
    package var grace = 3600
    /// Plan and report, change nothing.
    package var dryRun = false
    /// Compact a pack once at least this share of its bytes can be reclaimed.
    package var threshold = 0.2
    /// Copy at most this many bytes per second (nil: as fast as the disk goes), so that GC
    /// running beside uploads does not starve them.
    package var throttleBytesPerSecond: Int?
    /// A pack in an object store is compacted at this share instead: a rewrite there costs
    /// requests as well as bytes.
    package var objectThreshold = 0.3
    /// Seconds an object pack that compaction retired is kept before its object is deleted, so
    /// reads planned against it finish.
    package var retireDelay = 600
    /// Seconds an object no row references must have existed before it is swept: longer than
    /// any upload takes between sending its first pack and its commit.
    package var orphanAge = 86400

    package init() {}
}

/// What a GC run did (the `granary gc --json` report).
package struct GCReport: Sendable, Codable, Equatable {
    /// Pack bytes freed: the sizes of the compacted packs less what was copied out of them.
    package var reclaimedBytes = 0
    package var packsCompacted = 0
    package var chunksReclaimed = 0
    package var seconds = 0.0
    package var dryRun = false
    /// Record bytes copied into new packs.
    package var bytesCopied = 0
    /// Deferred chunks compressed while being copied.
    package var chunksCompressed = 0
    /// Pack files no committed row referenced (left by a crash), removed.
    package var orphanPacksRemoved = 0
    /// Objects of packs retired by earlier compactions, deleted once `gc.retire_delay` passed.
    package var retiredObjectsRemoved = 0
    /// Objects no row references (an upload that failed or crashed), swept after `gc.orphan_age`.
    package var orphanObjectsRemoved = 0
    /// Candidate packs left alone because a live process holds them (appending or compacting).
    package var packsBusy = 0
    /// Problems that stopped the compaction of a pack (damaged records); fsck tells more.
    package var errors: [String] = []
    /// Unix seconds when the run ended.
    package var finishedAt = 0

    package init() {}

    enum CodingKeys: String, CodingKey {
        case reclaimedBytes = "reclaimed_bytes"
        case packsCompacted = "packs_compacted"
        case chunksReclaimed = "chunks_reclaimed"
        case seconds
        case dryRun = "dry_run"
        case bytesCopied = "bytes_copied"
        case chunksCompressed = "chunks_compressed"
        case orphanPacksRemoved = "orphan_packs_removed"
        case retiredObjectsRemoved = "retired_objects_removed"
        case orphanObjectsRemoved = "orphan_objects_removed"
        case packsBusy = "packs_busy"
        case errors
        case finishedAt = "finished_at"
    }

    /// Reads a report, also one an older release stored without the newer keys.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        reclaimedBytes = try count(.reclaimedBytes)
        packsCompacted = try count(.packsCompacted)
        chunksReclaimed = try count(.chunksReclaimed)
        seconds = try c.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
        dryRun = try c.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
        bytesCopied = try count(.bytesCopied)
        chunksCompressed = try count(.chunksCompressed)
        orphanPacksRemoved = try count(.orphanPacksRemoved)
        retiredObjectsRemoved = try count(.retiredObjectsRemoved)
        orphanObjectsRemoved = try count(.orphanObjectsRemoved)
        packsBusy = try count(.packsBusy)
        errors = try c.decodeIfPresent([String].self, forKey: .errors) ?? []
        finishedAt = try count(.finishedAt)
    }
}

/// How far a GC run has got, for progress bars and `GET /admin/gc`.
package struct GCProgress: Sendable, Equatable {
    package var packsDone = 0
    package var packsTotal = 0
    /// Record bytes to copy in all (planned) and copied so far.
    package var bytesTotal = 0
    package var bytesDone = 0
}

extension BlobStore {
    /// Packs whose rows are gathered at once during GC.
    static let compactionBatch = 32

    /// Reclaims the space of dead chunks by compacting the packs that hold enough of it, online:
    /// uploads, reads and other GC runs (in this or another process) may go on meanwhile.
    ///
    /// Safety (docs/architecture.md): a chunk is reclaimed only if it has been dead for `grace` seconds
    /// and since before the oldest registered write session began (see ``SessionTicket``), and
    /// only when its row is still dead in the transaction that deletes it. Live records are
    /// copied without re-hashing but CRC-checked, the copies are fdatasync'd before the commit
    /// that moves the rows, and the old pack is unlinked only after that commit; readers that
    /// planned against it either hold its descriptor or re-resolve the chunks. A pack is
    /// compacted only under its `flock`, which every appender holds, so nothing writes to it.
    package func collectGarbage(
        _ options: GCOptions = GCOptions(),
        progress: @Sendable (GCProgress) -> Void = { _ in }
    ) async throws -> GCReport {
        let started = DispatchTime.now().uptimeNanoseconds
        var report = GCReport()
        report.dryRun = options.dryRun
        let surveys = try surveyPacks(options, skipping: [])
        var status = GCProgress(packsTotal: surveys.count, bytesTotal: surveys.reduce(0) { $0 + $1.keepBytes })
        progress(status)

        let copier = RecordCopier(store: self)
        defer { copier.finish() }
        let throttle = Throttle(bytesPerSecond: options.throttleBytesPerSecond)
        // Rows are gathered for a batch of packs at a time, which bounds memory on big stores.
        for batchStart in stride(from: 0, to: surveys.count, by: Self.compactionBatch) {
            let batch = surveys[batchStart..<min(surveys.count, batchStart + Self.compactionBatch)]
            if options.dryRun {
                // Report what a real run would do: a pack a live process holds would be left alone.
                for survey in batch {
                    guard try survey.store != nil || packs.lockForMaintenance(survey.packID) != nil else {
                        report.packsBusy += 1
                        continue
                    }
                    report.packsCompacted += 1
                    report.chunksReclaimed += survey.dropCount
                    report.reclaimedBytes += survey.gain
                }
                status.packsDone += batch.count
                progress(status)
                continue
            }
            // Lock first, then read the rows: only a pack's lock holder commits rows into it, so
            // under the lock the plan cannot miss a row (a row missed would point at nothing).
            // An object pack is sealed: nobody appends to it, and it takes no lock.
            var locks: [UInt32: FileDescriptor] = [:]
            for survey in batch where survey.store == nil {
                if survey.packID != copier.outputID, let lock = try packs.lockForMaintenance(survey.packID) {
                    locks[survey.packID] = lock
                } else {
                    report.packsBusy += 1
                    status.packsDone += 1
                }
            }
            let ids = batch.filter { $0.store != nil || locks[$0.packID] != nil }.map(\.packID)
            for plan in try compactionPlans(for: ids, grace: options.grace) {
                defer {
                    status.packsDone += 1
                    progress(status)
                }
                func copied(_ bytes: Int) {
                    status.bytesDone += bytes
                    progress(status)
                }
                do {
                    let outcome: CompactionOutcome
                    if let storeID = plan.store {
                        guard let objects = objectPacks[storeID] else {
                            report.errors.append("\(PackFormat.fileName(plan.packID)): its store \(storeID) is not configured on this node")
                            continue
                        }
                        outcome = try await compact(plan, in: objects, with: copier, throttle: throttle, copiedBytes: copied)
                    } else {
                        guard let lock = locks.removeValue(forKey: plan.packID) else { continue }
                        outcome = try await compact(plan, from: lock, with: copier, throttle: throttle, copiedBytes: copied)
                        try packs.remove(plan.packID)
                    }
                    report.packsCompacted += 1
                    report.chunksReclaimed += outcome.reclaimed
                    report.bytesCopied += outcome.copied
                    report.chunksCompressed += outcome.compressed
                    report.reclaimedBytes += plan.committedLength - outcome.copied
                } catch let error as StoreError where error.code == .corrupt || error.code == .conflict {
                    report.errors.append("\(PackFormat.fileName(plan.packID)): \(error)")
                }
            }
        }
        if !options.dryRun {
            report.orphanPacksRemoved = try removeOrphanPacks()
            report.retiredObjectsRemoved = try await removeRetiredObjects(after: options.retireDelay, errors: &report.errors)
            report.orphanObjectsRemoved = try await removeOrphanObjects(olderThan: options.orphanAge, errors: &report.errors)
        }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        report.finishedAt = Int(time(nil))
        if !options.dryRun {
            let keyspace = self.keyspace
            let encoded = try JSONEncoder().encode(report)
            try await coordinator.submit { txn in try txn.put(keyspace.meta, Keyspace.lastGCKey, Array(encoded)) }
        }
        return report
    }

    /// Lets go of the packs this process keeps open for appending, so GC may compact them;
    /// later uploads start new packs. The server's GC service calls this before each run.
    package func sealOpenPacks() { packs.retireIdle() }

    /// The report of the last GC run that changed something, or nil.
    package func lastGC() throws -> GCReport? {
        try environment.read { txn in
            try txn.value(keyspace.meta, Keyspace.lastGCKey).map { try JSONDecoder().decode(GCReport.self, from: Data($0)) }
        }
    }

    // MARK: Planning

    /// Which dead chunks may go: dead for the grace period and since before the oldest live
    /// write session began. Evaluated anew in each snapshot that decides.
    struct ReclaimRule {
        let now: Int
        let grace: Int
        let oldestSession: Int?

        func reclaimable(_ row: ChunkRow) -> Bool {
            row.refcount == 0 && row.deadSince + grace <= now && (oldestSession.map { row.deadSince < $0 } ?? true)
        }
    }

    func reclaimRule(grace: Int, in txn: borrowing Transaction<some TransactionAccess>) throws -> ReclaimRule {
        ReclaimRule(now: Int(time(nil)), grace: grace, oldestSession: try Self.oldestSessionStart(in: txn, keyspace: keyspace))
    }

    /// A pack worth compacting: what stays, what goes.
    struct PackSurvey {
        var packID: UInt32
        var committedLength: Int
        /// The object store holding the pack; nil: local.
        var store: String?
        var keepBytes = 0
        var dropCount = 0
        var deferredBytes = 0
        var gain: Int { committedLength - keepBytes }
    }

    /// One pack to compact: the rows to copy out (by offset) and the rows to delete.
    struct CompactionPlan {
        var packID: UInt32
        var committedLength: Int
        var store: String?
        var keep: [(key: SHA256Key, row: ChunkRow)] = []
        var drop: [(key: SHA256Key, row: ChunkRow)] = []
        var keepBytes: Int { keep.reduce(0) { $0 + $1.row.recordSize } }
    }

    /// The packs worth compacting, best first, from one snapshot: pack rows, then one scan of
    /// the chunk rows that totals, per pack with dead bytes, what would stay. Memory stays small:
    /// rows themselves are gathered later, a batch of packs at a time (``compactionPlans(for:grace:)``).
    func surveyPacks(_ options: GCOptions, skipping skip: Set<UInt32>) throws -> [PackSurvey] {
        let held = packs.heldForAppend
        let deferred = settings.compression == .deferred
        return try environment.read { txn in
            let rule = try reclaimRule(grace: options.grace, in: txn)
            var surveys: [UInt32: PackSurvey] = [:]
            try txn.forEach(keyspace.packs) { key, value in
                let id = UInt32(bigEndian: key.loadUnaligned(as: UInt32.self))
                let row = try PackRow(value)
                if !held.contains(id) && !skip.contains(id) && (row.deadBytes > 0 || deferred) {
                    surveys[id] = PackSurvey(packID: id, committedLength: row.committedLength, store: row.store)
                }
                return true
            }
            guard !surveys.isEmpty else { return [] }
            try txn.forEach(keyspace.chunks) { _, value in
                let row = try ChunkRow(value)
                guard surveys[row.packID] != nil else { return true }
                if rule.reclaimable(row) {
                    surveys[row.packID]!.dropCount += 1
                } else {
                    surveys[row.packID]!.keepBytes += row.recordSize
                    if row.codec == .rawDeferred { surveys[row.packID]!.deferredBytes += row.rawLength }
                }
                return true
            }
            return surveys.values.filter { survey in
                let threshold = survey.store == nil ? options.threshold : options.objectThreshold
                return survey.keepBytes == 0 || Double(survey.gain) >= threshold * Double(survey.committedLength)
                    || survey.deferredBytes > 0
            }.sorted { $0.gain > $1.gain }
        }
    }

    /// The rows of packs `ids`, classified in a fresh snapshot.
    func compactionPlans(for ids: [UInt32], grace: Int) throws -> [CompactionPlan] {
        try environment.read { txn in
            let rule = try reclaimRule(grace: grace, in: txn)
            var plans: [UInt32: CompactionPlan] = [:]
            for id in ids {
                guard let bytes = try txn.value(keyspace.packs, Keyspace.packKey(id)) else { continue }
                let row = try bytes.withUnsafeBytes { try PackRow($0) }
                plans[id] = CompactionPlan(packID: id, committedLength: row.committedLength, store: row.store)
            }
            try txn.forEach(keyspace.chunks) { key, value in
                let row = try ChunkRow(value)
                guard plans[row.packID] != nil else { return true }
                if rule.reclaimable(row) {
                    plans[row.packID]!.drop.append((SHA256Key(key), row))
                } else {
                    plans[row.packID]!.keep.append((SHA256Key(key), row))
                }
                return true
            }
            return ids.compactMap { id in
                plans[id].map { plan in
                    var plan = plan
                    plan.keep.sort { $0.row.offset < $1.row.offset }
                    return plan
                }
            }
        }
    }

    // MARK: Compaction

    struct CompactionOutcome {
        var copied = 0
        var reclaimed = 0
        var compressed = 0
    }

    /// Copies the kept records of `plan` into the GC's output pack, syncs it, and commits the
    /// move: rows re-pointed, reclaimed rows deleted, the old pack's row removed.
    private func compact(
        _ plan: CompactionPlan,
        from source: FileDescriptor,
        with copier: RecordCopier,
        throttle: Throttle,
        copiedBytes: (Int) -> Void
    ) async throws -> CompactionOutcome {
        var outcome = CompactionOutcome()
        var moves: [(key: SHA256Key, from: ChunkRow, to: WrittenChunk)] = []
        var output: OpenPack?
        if !plan.keep.isEmpty {
            let pack = try copier.output(room: plan.keepBytes)
            output = pack
            do {
                (moves, outcome.compressed) = try await copier.copyKept(plan, into: pack, throttle: throttle, copiedBytes: copiedBytes) {
                    offset, buffer in try source.read(into: buffer, at: offset)
                }
                try pack.appender.flushAndSync()
            } catch {
                copier.discard(pack)
                throw error
            }
            outcome.copied = moves.reduce(0) { $0 + $1.to.recordSize }
        }
        let keyspace = self.keyspace
        let drop = plan.drop
        let source = plan.packID
        let outputID = output?.id
        let outputLength = output?.writeOffset ?? 0
        let outputCommitted = output?.committedLength ?? 0
        let movesDone = moves
        do {
            outcome.reclaimed = try await coordinator.submit { txn in
                try Self.commitCompaction(
                    source: source, moves: movesDone, drop: drop,
                    output: outputID.map { ($0, outputCommitted, outputLength, nil) }, retire: nil, in: txn, keyspace: keyspace)
            }
        } catch {
            if let output { copier.discard(output) }
            throw error
        }
        output?.committedLength = outputLength
        return outcome
    }

    /// The compaction commit. Every row is re-read: a row that moved meanwhile (an upload stored
    /// a fresh copy of a dead chunk) keeps its new place and our copy becomes dead bytes; a row
    /// to delete that came back to life stops the commit (it cannot, given the session rule, but
    /// losing a chunk is not a risk to take on an argument).
    /// - Returns: how many chunk rows were deleted.
    static func commitCompaction(
        source: UInt32,
        moves: [(key: SHA256Key, from: ChunkRow, to: WrittenChunk)],
        drop: [(key: SHA256Key, row: ChunkRow)],
        output: (id: UInt32, committed: Int, length: Int, store: String?)?,
        retire: RetiredPack?,
        in txn: borrowing WriteTransaction,
        keyspace: Keyspace
    ) throws -> Int {
        func current(_ key: SHA256Key) throws -> ChunkRow? {
            try key.withBytes { k in try txn.withValue(keyspace.chunks, k) { try ChunkRow($0) } }
        }
        var reclaimed = 0
        for (key, row) in drop {
            guard let now = try current(key), now.packID == source, now.offset == row.offset else { continue }
            guard now.refcount == 0 else {
                throw StoreError(.conflict, "chunk \(key) came back to life during compaction; the pack is left as it was")
            }
            _ = try txn.delete(keyspace.chunks, key.bytes)
            reclaimed += 1
        }
        var live = 0
        var dead = 0
        for (key, from, to) in moves {
            guard var now = try current(key), now.packID == source, now.offset == from.offset else {
                dead += to.recordSize
                continue
            }
            now.packID = to.packID
            now.offset = to.offset
            now.storedLength = to.storedLength
            now.codec = to.codec
            try txn.put(keyspace.chunks, key.bytes, now.encoded())
            if now.refcount > 0 { live += to.recordSize } else { dead += to.recordSize }
        }
        if let output {
            let key = Keyspace.packKey(output.id)
            var row =
                try txn.value(keyspace.packs, key).map { bytes in try bytes.withUnsafeBytes { try PackRow($0) } }
                ?? PackRow(committedLength: output.committed, sealed: output.store != nil, store: output.store)
            row.committedLength = output.length
            row.liveBytes += live
            row.deadBytes += dead
            row.records += moves.count
            try txn.put(keyspace.packs, key, row.encoded())
            try raiseHighWater(output.id, in: txn, keyspace: keyspace)
        }
        _ = try txn.delete(keyspace.packs, Keyspace.packKey(source))
        if let retire { try txn.put(keyspace.retired, Keyspace.packKey(source), retire.encoded()) }
        try raiseHighWater(source, in: txn, keyspace: keyspace)
        let generation: UInt64 = try keyspace.metaInteger(Keyspace.generationKey, in: txn)
        try keyspace.setMetaInteger(Keyspace.generationKey, generation + 1, in: txn)
        return reclaimed
    }

    /// Removes pack files that no committed row references and no live process holds: what a
    /// crash between a compaction commit and its unlink, or before a first commit, leaves.
    /// The row is looked up again under the pack's lock, since only the lock holder commits rows.
    func removeOrphanPacks() throws -> Int {
        var removed = 0
        for (id, _) in try PackSet.packFiles(in: packs.directory) {
            let hasRow = try environment.read { txn in try txn.contains(keyspace.packs, Keyspace.packKey(id)) }
            guard !hasRow, let lock = try packs.lockForMaintenance(id) else { continue }
            let stillNoRow = try environment.read { txn in try !txn.contains(keyspace.packs, Keyspace.packKey(id)) }
            if stillNoRow {
                try packs.remove(id)
                removed += 1
            }
            withExtendedLifetime(lock) {}
        }
        return removed
    }
}

/// Copies records out of packs being compacted into the GC's own output pack, CRC-checking each
/// and compressing deferred ones. One per GC run; not thread-safe.
final class RecordCopier {
    private let store: BlobStore
    private var pack: OpenPack?
    private let window = 4 << 20

    /// The pack being written, which must not itself be compacted.
    var outputID: UInt32? { pack?.id }
    private let io: UnsafeMutableRawBufferPointer
    private let compressed: UnsafeMutableRawBufferPointer
    private let header = UnsafeMutableRawBufferPointer.allocate(byteCount: PackFormat.recordHeaderSize, alignment: 8)
    private let compressor: ZstdCompressor?

    init(store: BlobStore) {
        self.store = store
        let maxRecord = PackFormat.recordHeaderSize + store.settings.chunker.maxSize
        io = .allocate(byteCount: window + maxRecord, alignment: 64)
        compressed = .allocate(byteCount: ZstdCompressor.maxCompressedSize(store.settings.chunker.maxSize), alignment: 64)
        compressor = store.settings.compression == .off ? nil : ZstdCompressor(level: store.settings.zstdLevel)
    }

    deinit {
        io.deallocate()
        compressed.deallocate()
        header.deallocate()
    }

    /// The output pack, a fresh one when `room` more bytes would take it past the size limit
    /// (so one source pack's records always land in one output pack).
    func output(room: Int) throws -> OpenPack {
        if let pack, pack.writeOffset + room <= store.settings.packSizeLimit || pack.writeOffset <= PackFormat.fileHeaderSize {
            return pack
        }
        if let pack { store.packs.giveBack(pack, committed: true) }
        let fresh = try store.packs.lease()
        pack = fresh
        return fresh
    }

    /// Cuts off a failed compaction's copies.
    func discard(_ failed: OpenPack) {
        store.packs.giveBack(failed, committed: false)
        if pack === failed { pack = nil }
    }

    /// Hands the output pack back to the store for uploads to fill.
    func finish() {
        if let pack { store.packs.giveBack(pack, committed: true) }
        pack = nil
    }

    /// Copies the kept records of `plan` into `output`, a read window at a time: `read` fills a
    /// buffer with the source pack's bytes from an offset (a `pread` of a local pack, a ranged
    /// GET of an object pack).
    func copyKept(
        _ plan: BlobStore.CompactionPlan, into output: OpenPack, throttle: Throttle, copiedBytes: (Int) -> Void,
        read: (_ offset: Int, _ buffer: UnsafeMutableRawBufferPointer) async throws -> Void
    ) async throws -> (moves: [(key: SHA256Key, from: ChunkRow, to: WrittenChunk)], compressed: Int) {
        var moves: [(key: SHA256Key, from: ChunkRow, to: WrittenChunk)] = []
        var compressed = 0
        var start = 0
        while start < plan.keep.count {
            let (end, span) = window(plan.keep, from: start)
            try await read(plan.keep[start].row.offset, buffer(span))
            let window = try copyRecords(plan.keep[start..<end], packID: plan.packID, into: output)
            moves += window.moves
            compressed += window.compressed
            start = end
            let bytes = window.moves.reduce(0) { $0 + $1.from.recordSize }
            copiedBytes(bytes)
            await throttle.pace(bytes)
        }
        return (moves, compressed)
    }

    /// The records `keep[start...]` that fit in one read window: where they end, and the bytes
    /// from the first one's offset that hold them.
    private func window(_ keep: [(key: SHA256Key, row: ChunkRow)], from start: Int) -> (end: Int, span: Int) {
        let first = keep[start].row.offset
        var end = start
        while end < keep.count, end == start || keep[end].row.offset + keep[end].row.recordSize - first <= window { end += 1 }
        return (end, keep[end - 1].row.offset + keep[end - 1].row.recordSize - first)
    }

    /// The read buffer, `span` bytes of it, for a window's records.
    private func buffer(_ span: Int) -> UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: io[0..<span]) }

    /// Copies the records of a window, read into ``buffer(_:)`` from the first one's offset.
    private func copyRecords(
        _ records: ArraySlice<(key: SHA256Key, row: ChunkRow)>,
        packID: UInt32,
        into output: OpenPack
    ) throws -> (moves: [(key: SHA256Key, from: ChunkRow, to: WrittenChunk)], compressed: Int) {
        guard let first = records.first?.row.offset else { return ([], 0) }
        let buffer = io
        var moves: [(key: SHA256Key, from: ChunkRow, to: WrittenChunk)] = []
        var compressedCount = 0
        for (key, row) in records {
            let at = row.offset - first
            let record = UnsafeRawBufferPointer(rebasing: buffer[at..<(at + row.recordSize)])
            let location = "chunk \(key) (\(PackFormat.fileName(packID)) offset \(row.offset))"
            let parsed = try RecordHeader.decode(record, location: location)
            let stored = UnsafeRawBufferPointer(rebasing: record[PackFormat.recordHeaderSize...])
            guard parsed.sha256 == key, parsed.storedLength == row.storedLength, CRC32C.checksum(stored) == parsed.storedCRC else {
                throw StoreError(.corrupt, "\(location) is damaged; compaction of the pack stopped (run granary fsck)")
            }
            var newHeader = parsed
            var bytes = stored
            if parsed.codec == .rawDeferred {
                newHeader.codec = .raw
                if let compressor, let n = ChunkCompression.attempt(stored, with: compressor, into: compressed) {
                    bytes = UnsafeRawBufferPointer(rebasing: compressed[0..<n])
                    newHeader.codec = .zstd
                    newHeader.storedLength = n
                    newHeader.storedCRC = CRC32C.checksum(bytes)
                    compressedCount += 1
                }
            }
            let offset = output.writeOffset
            if newHeader == parsed {
                try output.appender.append([record])
            } else {
                newHeader.encode(into: header)
                try output.appender.append([UnsafeRawBufferPointer(header), bytes])
            }
            moves.append(
                (
                    key, row,
                    WrittenChunk(
                        packID: output.id, offset: offset, storedLength: newHeader.storedLength, rawLength: row.rawLength, codec: newHeader.codec)
                )
            )
        }
        return (moves, compressedCount)
    }
}

/// Paces copying to a byte rate by sleeping between windows.
final class Throttle: Sendable {
    private let bytesPerSecond: Int?
    private let start = DispatchTime.now().uptimeNanoseconds
    private let done = Mutex(0)

    init(bytesPerSecond: Int?) { self.bytesPerSecond = bytesPerSecond }

    func pace(_ bytes: Int) async {
        guard let bytesPerSecond, bytesPerSecond > 0 else { return }
        let total = done.withLock { total -> Int in
            total += bytes
            return total
        }
        let due = Double(total) / Double(bytesPerSecond)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if due > elapsed { try? await Task.sleep(nanoseconds: UInt64((due - elapsed) * 1e9)) }
    }
}
