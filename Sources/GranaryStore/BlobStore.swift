import Dispatch
import Foundation
package import GranaryCodec
package import GranaryLMDB
package import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The content-addressed, deduplicating chunk store.
///
/// Glossary: a *chunk* is a piece of an upload cut by content-defined chunking and named by
/// its SHA-256; a *record* is a chunk's bytes in a pack file with a self-describing header; a
/// *pack* is an append-only file of records; a *manifest* lists a blob's chunks in order; a
/// *blob* is an upload's bytes, named by the SHA-256 of its manifest.
///
/// Crash safety (docs/architecture.md): chunk bytes are fdatasync'd before the LMDB transaction that
/// references them; each pack's committed length is stored in LMDB and recovery, run only by
/// the holder of the data directory's exclusive lock, cuts anything beyond it.
package final class BlobStore: Sendable {
    package let directory: DataDirectory
    package let environment: Environment
    package let coordinator: WriteCoordinator
    package let settings: StoreSettings
    let keyspace: Keyspace
    /// The local pack directory's packs.
    let packs: PackSet
    /// Where packs bound for an object store are written (new uploads, compaction output): the
    /// spool directory in this node's cache, from which each sealed pack is sent whole.
    /// ``packs`` itself when no object store is configured.
    let spool: PackSet
    /// The object stores packs may live in, by id, each with this node's read cache.
    package let objectPacks: [String: ObjectPacks]
    /// The object store new packs go to; nil: the local directory.
    let writesTo: ObjectPacks?
    /// The read caches of a process beside the lock holder, removed when the store closes.
    private let scratchCaches: String?

    /// Opens the store in `directory`, running recovery when this process holds the lock.
    ///
    /// #### Errors
    /// A ``StoreError/Code-swift.struct/invalidArgument`` error when the store was created with
    /// other chunking parameters (dedup against its data would silently stop working), or when
    /// `placement` names a default store it does not configure.
    package init(
        directory: DataDirectory, settings: StoreSettings = StoreSettings(), placement: PackPlacement = .local, logger: Logger? = nil
    ) throws {
        var options = Environment.Options()
        options.mapSize = settings.indexMapSize
        options.durable = settings.durableIndex
        let environment = try Environment(directory: directory.indexPath, options: options)
        self.directory = directory
        self.environment = environment
        self.coordinator = WriteCoordinator(environment: environment)
        self.settings = settings
        let keyspace = try Keyspace(environment: environment)
        self.keyspace = keyspace
        let highWater: UInt32 = try environment.read { txn in try keyspace.metaInteger(Keyspace.highWaterKey, in: txn) }
        if let local = placement.localDirectory { try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true) }
        let packs = try PackSet(
            directory: placement.localDirectory ?? directory.packsPath, sizeLimit: settings.packSizeLimit, direct: settings.packWrites == .direct,
            highWater: highWater)
        self.packs = packs
        let cacheDirectory = placement.cacheDirectory ?? directory.root + "/cache"
        // The read caches are the lock holder's (the server's): a process beside it (a CLI run)
        // caches in a scratch folder of its own, which the lock holder empties at its next start.
        let readCaches = directory.isExclusive ? cacheDirectory : directory.tmpPath + "/cache-\(getpid())"
        let instance = try Self.checkFormat(environment: environment, keyspace: keyspace, settings: settings)
        var objectPacks: [String: ObjectPacks] = [:]
        for (id, objects) in placement.objectStores {
            objectPacks[id] = try ObjectPacks(
                id: id, objects: objects, cacheDirectory: readCaches + "/packs-" + id, maxBytes: placement.cacheMaxBytes, prefix: instance + "/")
        }
        self.objectPacks = objectPacks
        scratchCaches = directory.isExclusive || objectPacks.isEmpty ? nil : readCaches
        writesTo = try placement.defaultStore.map { id in
            guard let target = objectPacks[id] else { throw StoreError(.invalidArgument, "default_store \(id) is not a configured object store") }
            return target
        }
        if objectPacks.isEmpty {
            spool = packs
        } else {
            try FileManager.default.createDirectory(atPath: cacheDirectory + "/spool", withIntermediateDirectories: true)
            spool = try PackSet(
                directory: cacheDirectory + "/spool", sizeLimit: settings.packSizeLimit, direct: settings.packWrites == .direct,
                highWater: max(highWater, packs.nextID - 1))
        }
        if directory.isExclusive {
            _ = try environment.clearStaleReaders()
            let stale = try environment.write { txn in try Self.removeStaleSessions(in: txn, keyspace: keyspace) }
            if stale > 0 { logger?.notice("recovery: removed \(stale) write sessions of processes that are gone") }
            for action in try packs.recover(environment: environment, keyspace: keyspace) {
                logger?.notice("recovery: \(action)")
            }
            if spool !== packs {
                for action in try spool.emptySpool() { logger?.notice("recovery: \(action)") }
            }
        }
    }

    deinit {
        if let scratchCaches { try? FileManager.default.removeItem(atPath: scratchCaches) }
    }

    /// A pack to append to, bound for `target` (nil: the local directory). A pack bound for an
    /// object store is spooled, and takes its id for good first (the high-water mark, durably):
    /// its object name must never be reused, even when a crash leaves the object unreferenced.
    func leasePack(for target: ObjectPacks?) throws -> OpenPack {
        guard target != nil else { return try packs.lease() }
        let pack = try spool.lease()
        let keyspace = self.keyspace
        try environment.write { txn in try Self.raiseHighWater(pack.id, in: txn, keyspace: keyspace) }
        return pack
    }

    /// After the commit that references a spooled pack `target` now holds: the spool file
    /// becomes this node's cached copy (without it the pack is read from the store: slower,
    /// never wrong).
    func settleSentPack(_ pack: OpenPack, in target: ObjectPacks) async {
        pack.appender.releaseBuffers()
        let path = spool.path(of: pack.id)
        try? await target.adopt(pack.id, file: path, size: pack.writeOffset)
        unlink(path)
    }

    /// Records the format and chunking parameters at creation; refuses a mismatch later.
    /// - Returns: the store's instance name, random at creation, which prefixes its object
    ///   names: two stores sharing a container or bucket never touch each other's packs.
    private static func checkFormat(environment: Environment, keyspace: Keyspace, settings: StoreSettings) throws -> String {
        let wanted = settings.chunker.fingerprint
        return try environment.write { txn in
            if let stored = try txn.value(keyspace.meta, Array("chunker".utf8)) {
                let text = String(decoding: stored, as: UTF8.self)
                guard text == wanted else {
                    throw StoreError(.invalidArgument, "the store was created with chunker \(text), not \(wanted): open it with its own parameters")
                }
            } else {
                try txn.put(keyspace.meta, Array("chunker".utf8), Array(wanted.utf8))
                try txn.put(keyspace.meta, Array("format".utf8), Array("1".utf8))
            }
            if let instance = try txn.value(keyspace.meta, Keyspace.instanceKey) { return String(decoding: instance, as: UTF8.self) }
            var random = SystemRandomNumberGenerator()
            let instance = Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255, using: &random) })
            try txn.put(keyspace.meta, Keyspace.instanceKey, Array(instance.utf8))
            return instance
        }
    }

    // MARK: Writing

    /// Starts an upload that will report `digests` of the whole object.
    package func beginIngest(digests: [DigestAlgorithm], costs: PassCosts = .current) -> IngestSession {
        IngestSession(store: self, digests: digests, costs: costs)
    }

    /// Makes a staged upload a blob held by one more record, in one durable LMDB transaction.
    package func commit(_ staged: StagedBlob) async throws -> PutResult {
        try await commit(staged) { _, _ in }.0
    }

    /// Commits a staged upload and runs `work` in the same transaction, so that (for example)
    /// an image turns active exactly when its chunks become referenced.
    package func commit<R: Sendable>(
        _ staged: StagedBlob,
        alongWith work: @escaping @Sendable (borrowing WriteTransaction, BlobInfo) throws -> R
    ) async throws -> (PutResult, R) {
        precondition(!staged.committed, "a staged blob is committed once")
        staged.committed = true
        let keyspace = self.keyspace
        do {
            let ticket = staged.session.ticket
            let (info, result) = try await coordinator.submit { txn in
                let info = try Self.reference(staged, in: txn, keyspace: keyspace)
                if let ticket { try Self.endSession(ticket, in: txn, keyspace: keyspace) }
                return (info, try work(txn, info))
            }
            staged.session.sessionEndedByCommit()
            await staged.session.releasePacks(committed: true)
            let put = PutResult(
                blob: info,
                newChunks: staged.newChunks,
                bytesWritten: staged.bytesWritten,
                seconds: staged.session.secondsSinceStart
            )
            return (put, result)
        } catch {
            await staged.session.releasePacks(committed: false)
            await staged.session.endSession()
            throw error
        }
    }

    /// The commit transaction: blob row, manifest, chunk rows and refcounts, pack accounting.
    private static func reference(_ staged: StagedBlob, in txn: borrowing WriteTransaction, keyspace: Keyspace) throws -> BlobInfo {
        let manifest = staged.manifest
        let blobID = manifest.blobID
        let blobKey = blobID.bytes
        var packDeltas: [UInt32: (live: Int, dead: Int, records: Int)] = [:]
        for (_, chunk) in staged.written { packDeltas[chunk.packID, default: (0, 0, 0)].records += 1 }
        var stillWritten = staged.written

        let row: BlobRow
        if let existing = try txn.value(keyspace.blobs, blobKey) {
            var blob = try existing.withUnsafeBytes { try BlobRow($0) }
            blob.refcount += 1
            blob.digests.merge(staged.digests) { old, _ in old }
            row = blob
        } else {
            row = BlobRow(refcount: 1, size: staged.size, chunkCount: manifest.count, digests: staged.digests)
            try txn.put(keyspace.manifests, blobKey, manifest.bytes)
            var occurrences: [SHA256Key: Int] = [:]
            for i in 0..<manifest.count where manifest.key(at: i) != .zero { occurrences[manifest.key(at: i), default: 0] += 1 }
            for (key, count) in occurrences {
                let chunkKey = key.bytes
                let ours = stillWritten.removeValue(forKey: key)
                if let bytes = try txn.value(keyspace.chunks, chunkKey) {
                    var chunk = try bytes.withUnsafeBytes { try ChunkRow($0) }
                    if chunk.refcount == 0, let ours {
                        // Dedup references only live chunks: the fresh copy replaces the dead one.
                        chunk = ChunkRow(
                            packID: ours.packID, offset: ours.offset, storedLength: ours.storedLength,
                            rawLength: ours.rawLength, codec: ours.codec, refcount: 0, deadSince: 0)
                        packDeltas[ours.packID, default: (0, 0, 0)].live += ours.recordSize
                    } else if chunk.refcount == 0 {
                        packDeltas[chunk.packID, default: (0, 0, 0)].live += chunk.recordSize
                        packDeltas[chunk.packID, default: (0, 0, 0)].dead -= chunk.recordSize
                        chunk.deadSince = 0
                    } else if let ours {
                        // Another upload stored it first: this copy is dead on arrival.
                        packDeltas[ours.packID, default: (0, 0, 0)].dead += ours.recordSize
                    }
                    chunk.refcount += count
                    try txn.put(keyspace.chunks, chunkKey, chunk.encoded())
                } else if let ours {
                    let chunk = ChunkRow(
                        packID: ours.packID, offset: ours.offset, storedLength: ours.storedLength,
                        rawLength: ours.rawLength, codec: ours.codec, refcount: count, deadSince: 0)
                    try txn.put(keyspace.chunks, chunkKey, chunk.encoded())
                    packDeltas[ours.packID, default: (0, 0, 0)].live += ours.recordSize
                } else {
                    throw StoreError(.corrupt, "chunk \(key) was live during the upload but is gone at commit")
                }
            }
        }
        // Whatever was written but not taken up (the blob already existed) is dead on arrival.
        for (_, ours) in stillWritten { packDeltas[ours.packID, default: (0, 0, 0)].dead += ours.recordSize }
        try txn.put(keyspace.blobs, blobKey, row.encoded())

        try raiseHighWater(staged.packs.map(\.id).max(), in: txn, keyspace: keyspace)
        for pack in staged.packs {
            let key = Keyspace.packKey(pack.id)
            var packRow =
                try txn.value(keyspace.packs, key).map { bytes in try bytes.withUnsafeBytes { try PackRow($0) } }
                ?? PackRow(committedLength: pack.committedLength, sealed: staged.packStore != nil, store: staged.packStore)
            let delta = packDeltas.removeValue(forKey: pack.id) ?? (0, 0, 0)
            packRow.committedLength = pack.writeOffset
            packRow.liveBytes += delta.live
            packRow.deadBytes += delta.dead
            packRow.records += delta.records
            try txn.put(keyspace.packs, key, packRow.encoded())
        }
        for (id, delta) in packDeltas {
            try adjustPack(id, live: delta.live, dead: delta.dead, in: txn, keyspace: keyspace)
        }
        return BlobInfo(id: blobID, size: row.size, digests: row.digests, chunks: row.chunkCount, refcount: row.refcount)
    }

    /// Records that pack ids up to `id` are taken, for good.
    static func raiseHighWater(_ id: UInt32?, in txn: borrowing WriteTransaction, keyspace: Keyspace) throws {
        guard let id else { return }
        let current: UInt32 = try keyspace.metaInteger(Keyspace.highWaterKey, in: txn)
        if id > current { try keyspace.setMetaInteger(Keyspace.highWaterKey, id, in: txn) }
    }

    static func adjustPack(_ id: UInt32, live: Int, dead: Int, in txn: borrowing WriteTransaction, keyspace: Keyspace) throws {
        let key = Keyspace.packKey(id)
        guard let bytes = try txn.value(keyspace.packs, key) else {
            throw StoreError(.corrupt, "pack \(PackFormat.fileName(id)) has chunk rows but no pack row")
        }
        var row = try bytes.withUnsafeBytes { try PackRow($0) }
        row.liveBytes += live
        row.deadBytes += dead
        try txn.put(keyspace.packs, key, row.encoded())
    }

    /// Drops one holder of blob `id`; when none is left the blob is deleted and its chunks'
    /// refcounts fall, in the same transaction. Chunks reaching zero become dead bytes of their
    /// pack (reclaimed by GC).
    /// - Returns: false when there is no such blob.
    @discardableResult
    package func release(_ id: SHA256Key) async throws -> Bool {
        let keyspace = self.keyspace
        return try await coordinator.submit { txn in try Self.release(id, in: txn, keyspace: keyspace) }
    }

    /// ``release(_:)`` inside a caller's transaction (deleting an image and its data together).
    package func release(_ id: SHA256Key, in txn: borrowing WriteTransaction) throws -> Bool {
        try Self.release(id, in: txn, keyspace: keyspace)
    }

    private static func release(_ id: SHA256Key, in txn: borrowing WriteTransaction, keyspace: Keyspace) throws -> Bool {
        let blobKey = id.bytes
        guard let bytes = try txn.value(keyspace.blobs, blobKey) else { return false }
        var row = try bytes.withUnsafeBytes { try BlobRow($0) }
        row.refcount -= 1
        if row.refcount > 0 {
            try txn.put(keyspace.blobs, blobKey, row.encoded())
            return true
        }
        guard let manifestBytes = try txn.value(keyspace.manifests, blobKey) else {
            throw StoreError(.corrupt, "blob \(id) has no manifest")
        }
        let manifest = try manifestBytes.withUnsafeBytes { try Manifest(encoded: $0) }
        var occurrences: [SHA256Key: Int] = [:]
        for i in 0..<manifest.count where manifest.key(at: i) != .zero { occurrences[manifest.key(at: i), default: 0] += 1 }
        let now = Int(time(nil))
        var packDeltas: [UInt32: Int] = [:]
        for (key, count) in occurrences {
            let chunkKey = key.bytes
            guard let chunkBytes = try txn.value(keyspace.chunks, chunkKey) else {
                throw StoreError(.corrupt, "blob \(id) references chunk \(key), which has no row")
            }
            var chunk = try chunkBytes.withUnsafeBytes { try ChunkRow($0) }
            chunk.refcount = max(0, chunk.refcount - count)
            if chunk.refcount == 0 {
                chunk.deadSince = now
                packDeltas[chunk.packID, default: 0] += chunk.recordSize
            }
            try txn.put(keyspace.chunks, chunkKey, chunk.encoded())
        }
        for (packID, bytes) in packDeltas { try adjustPack(packID, live: -bytes, dead: bytes, in: txn, keyspace: keyspace) }
        try txn.delete(keyspace.blobs, blobKey)
        try txn.delete(keyspace.manifests, blobKey)
        return true
    }

    // MARK: Reading

    /// What the store knows of blob `id`, or nil.
    package func info(_ id: SHA256Key) throws -> BlobInfo? {
        try environment.read { txn in
            try id.withBytes { key in
                try txn.withValue(keyspace.blobs, key) { bytes in
                    let row = try BlobRow(bytes)
                    return BlobInfo(id: id, size: row.size, digests: row.digests, chunks: row.chunkCount, refcount: row.refcount)
                }
            }
        }
    }

    /// Whole-store figures: a scan of the blob, chunk and pack rows plus a stat of each local
    /// pack file (an object pack counts its committed length).
    package func stats() throws -> StoreStats {
        var rows: [UInt32: PackRow] = [:]
        var stats = try environment.read { txn in
            var stats = StoreStats()
            stats.chunks = try txn.count(keyspace.chunks)
            try txn.forEach(keyspace.blobs) { _, value in
                stats.blobs += 1
                stats.logicalBytes += try BlobRow(value).size
                return true
            }
            try txn.forEach(keyspace.chunks) { _, value in
                let row = try ChunkRow(value)
                if row.refcount > 0 {
                    stats.liveRawBytes += row.rawLength
                    stats.liveStoredBytes += row.storedLength
                }
                return true
            }
            try txn.forEach(keyspace.packs) { key, value in
                let row = try PackRow(value)
                rows[UInt32(bigEndian: key.loadUnaligned(as: UInt32.self))] = row
                stats.deadBytes += row.deadBytes
                return true
            }
            return stats
        }
        for (id, row) in rows where row.store != nil {
            stats.packs += 1
            stats.storedBytes += row.committedLength
            stats.packDetails.append(
                PackStats(
                    id: id, name: PackFormat.fileName(id), fileBytes: row.committedLength, liveBytes: row.liveBytes, deadBytes: row.deadBytes,
                    records: row.records, store: row.store))
        }
        for (id, name) in try PackSet.packFiles(in: packs.directory) {
            var st = stat()
            guard stat(packs.directory + "/" + name, &st) == 0 else { continue }
            stats.packs += 1
            stats.storedBytes += Int(st.st_size)
            let row = rows[id]
            stats.packDetails.append(
                PackStats(
                    id: id, name: name, fileBytes: Int(st.st_size), liveBytes: row?.liveBytes ?? 0, deadBytes: row?.deadBytes ?? 0,
                    records: row?.records ?? 0))
        }
        return stats
    }
}
