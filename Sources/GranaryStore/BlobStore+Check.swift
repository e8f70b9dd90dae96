import Dispatch
import GranaryCodec
import GranaryLMDB

#if canImport(Glibc)
    import Glibc
#endif

/// What ``BlobStore/check(scrub:progress:)`` and ``BlobStore/repair(scrub:progress:)`` found.
package struct CheckReport: Sendable, Equatable {
    /// No problem remains.
    package var ok: Bool { errors.isEmpty }
    /// Blob records marked from (each distinct blob once).
    package var records = 0
    /// Chunk rows checked.
    package var chunks = 0
    /// Problems, one sentence each, naming the blob, chunk or pack.
    package var errors: [String] = []
    /// What repair changed.
    package var repaired: [String] = []
    /// Pack bytes read.
    package var bytesScanned = 0
    /// What was not checked and why (packs in object stores this node does not configure).
    package var notes: [String] = []
    package var seconds = 0.0
}

/// A problem found by ``BlobStore/verify(scrub:)``.
package struct VerifyProblem: Sendable, Equatable, CustomStringConvertible {
    package let message: String
    package var description: String { message }
}

extension BlobStore {
    /// The problems ``check(scrub:progress:)`` finds (tests call this after every scenario).
    package func verify(scrub: Bool = false) async throws -> [VerifyProblem] {
        try await check(scrub: scrub).errors.map(VerifyProblem.init)
    }

    /// Checks the whole store from one snapshot, so it is consistent while uploads and GC go on:
    /// marks from every blob to its chunks and compares with the stored refcounts; reads every
    /// pack up to its committed length, checking each record header and the CRC32C of its
    /// bytes (with `scrub`, also decompressing and re-hashing every record); checks that every
    /// chunk row points at a record of that chunk and that each pack's live and dead byte
    /// counts match what its records and rows say. Changes nothing.
    ///
    /// A pack in an object store is asked for its size (it must be its committed length) and
    /// its rows are taken as they are; with `scrub` it is read from the store (not from this
    /// node's cache) and checked as a local pack is.
    package func check(scrub: Bool = false, progress: (_ bytesScanned: Int) -> Void = { _ in }) async throws -> CheckReport {
        let started = DispatchTime.now().uptimeNanoseconds
        let objects = try await objectPackStates(scrub: scrub)
        var report = try inspect(scrub: scrub, objects: objects, progress: progress).report
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return report
    }

    /// ``check(scrub:progress:)``, then fixes what can be fixed from the store's own contents:
    /// refcounts and pack accounting recomputed, chunk rows rebuilt from the packs for chunks
    /// that have none (the chunk table can be rebuilt from packs alone), pack files without a
    /// row adopted, stale write sessions removed; then checks again.
    ///
    /// #### Errors
    /// ``StoreError/Code-swift.struct/locked`` unless this process holds the data directory's
    /// exclusive lock: repairing from a snapshot while a server writes would undo its work.
    package func repair(scrub: Bool = false, progress: (_ bytesScanned: Int) -> Void = { _ in }) async throws -> CheckReport {
        guard directory.isExclusive else {
            throw StoreError(.locked, "fsck --repair needs the data directory to itself: stop the server using \(directory.root) first")
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let objects = try await objectPackStates(scrub: scrub)
        let inspection = try inspect(scrub: scrub, objects: objects, progress: progress)
        let keyspace = self.keyspace
        let fixes = inspection.fixes
        let repaired = try await coordinator.submit { txn in try Self.apply(fixes, in: txn, keyspace: keyspace) }
        var report = try inspect(scrub: false, objects: try await objectPackStates(scrub: false), progress: { _ in }).report
        report.repaired = repaired
        report.bytesScanned += inspection.report.bytesScanned
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return report
    }

    /// Raises blob `id`'s holder count to `count` when it is lower (fsck found more records
    /// holding it than it counts: a lower count would free its data while records still use it).
    /// Never lowers a count: holders the store cannot see (CLI puts) would lose their data.
    /// - Returns: whether the count changed.
    package func raiseHolders(_ id: SHA256Key, to count: Int) async throws -> Bool {
        let keyspace = self.keyspace
        return try await coordinator.submit { txn in
            guard let bytes = try txn.value(keyspace.blobs, id.bytes) else { return false }
            var row = try bytes.withUnsafeBytes { try BlobRow($0) }
            guard row.refcount < count else { return false }
            row.refcount = count
            try txn.put(keyspace.blobs, id.bytes, row.encoded())
            return true
        }
    }

    // MARK: Inspection

    /// A record found in a pack scan.
    struct FoundRecord {
        var offset: Int
        var key: SHA256Key
        var header: RecordHeader
        var size: Int { PackFormat.recordHeaderSize + header.storedLength }
    }

    /// What repair would write.
    struct Fixes: Sendable {
        var chunkRows: [(key: SHA256Key, row: ChunkRow, why: String)] = []
        var packRows: [(id: UInt32, row: PackRow, why: String)] = []
        var removeStaleSessions = false
    }

    private struct Inspection {
        var report = CheckReport()
        var fixes = Fixes()
    }

    /// What fsck found of an object pack before its snapshot (the store is asked first: the
    /// snapshot is a read transaction, which must not wait on the network).
    enum ObjectPackState {
        /// The whole object was read (`bytes`) and its records checked as a local pack's are,
        /// one pack at a time (its temporary copy is gone by now).
        case scanned(records: [FoundRecord], bytes: Int, problems: [String])
        /// The object is there with its committed size.
        case present
        /// Missing, of the wrong size, or unreadable.
        case problem(String)
        /// In a store this node does not configure.
        case unchecked(String)
    }

    /// Asks each object store about the packs rows place in it: their size, or with `scrub`
    /// their whole bytes.
    func objectPackStates(scrub: Bool) async throws -> [UInt32: ObjectPackState] {
        let keyspace = self.keyspace
        let rows: [(UInt32, PackRow)] = try environment.read { txn in
            var rows: [(UInt32, PackRow)] = []
            try txn.forEach(keyspace.packs) { key, value in
                let row = try PackRow(value)
                if row.store != nil { rows.append((UInt32(bigEndian: key.loadUnaligned(as: UInt32.self)), row)) }
                return true
            }
            return rows
        }
        var states: [UInt32: ObjectPackState] = [:]
        for (id, row) in rows {
            let storeID = row.store ?? ""
            guard let objects = objectPacks[storeID] else {
                states[id] = .unchecked("pack \(PackFormat.fileName(id)) is in store \(storeID), which this node does not configure: not checked")
                continue
            }
            do {
                if scrub {
                    let file = try await objects.download(id, size: row.committedLength, into: directory.tmpPath)
                    var problems: [String] = []
                    let (records, read, _) = try scanRecords(
                        of: file, id: id, end: row.committedLength, scrub: true, problem: { problems.append($0) }, progress: { _ in })
                    states[id] = .scanned(records: records, bytes: read, problems: problems)
                } else if let size = try await objects.size(of: id), size == row.committedLength {
                    states[id] = .present
                } else {
                    states[id] = .problem(
                        "pack \(objects.name(id)) of store \(storeID) is missing or not its committed \(row.committedLength) bytes, yet \(row.records) records are committed in it"
                    )
                }
            } catch {
                states[id] = .problem("pack \(objects.name(id)) of store \(storeID) cannot be checked: \(error)")
            }
        }
        return states
    }

    /// Reads the records of pack `id` in `file` up to `end`, checking each one's CRC32C (with
    /// `scrub`, also decompressing and re-hashing it); damage goes to `problem`.
    /// - Returns: the intact records, the bytes read, and where the last intact record ends.
    private func scanRecords(
        of file: FileDescriptor, id: UInt32, end: Int, scrub: Bool, problem: (String) -> Void, progress: (Int) -> Void
    ) throws -> (records: [FoundRecord], read: Int, lastEnd: Int) {
        let name = PackFormat.fileName(id)
        var records: [FoundRecord] = []
        let scanner = PackScanner(file: file, packID: id, end: end, maxStoredLength: settings.chunker.maxSize + 1024)
        let decompressor = ZstdDecompressor()
        let sha = StreamingDigest(.sha256)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.chunker.maxSize, alignment: 64)
        defer { raw.deallocate() }
        var lastEnd = PackFormat.fileHeaderSize
        let read = try scanner.scan(
            record: { record in
                let at = "chunk \(record.header.sha256) in \(name) offset \(record.offset)"
                guard CRC32C.checksum(record.stored) == record.header.storedCRC else {
                    problem("\(at) fails its checksum: the stored bytes are damaged")
                    return
                }
                if scrub {
                    var bytes = record.stored
                    if record.header.codec == .zstd {
                        guard record.header.rawLength <= raw.count,
                            let n = try? decompressor.decompress(
                                record.stored, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<record.header.rawLength])),
                            n == record.header.rawLength
                        else {
                            problem("\(at) does not decompress to its \(record.header.rawLength) bytes")
                            return
                        }
                        bytes = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                    }
                    guard SHA256Key(hashing: [bytes], with: sha) == record.header.sha256 else {
                        problem("\(at) does not hash to its name: the stored bytes are damaged")
                        return
                    }
                }
                records.append(FoundRecord(offset: record.offset, key: record.header.sha256, header: record.header))
                lastEnd = record.offset + record.size
                progress(record.offset)
            },
            damage: { offset, text in problem("pack \(name) is damaged at offset \(offset): \(text)") })
        return (records, read, lastEnd)
    }

    private func inspect(scrub: Bool, objects: [UInt32: ObjectPackState], progress: (Int) -> Void) throws -> Inspection {
        var result = Inspection()
        func problem(_ text: String) { result.report.errors.append(text) }
        let now = Int(time(nil))

        try environment.read { txn in
            // Mark: manifest references per chunk.
            var references: [SHA256Key: Int] = [:]
            try txn.forEach(keyspace.blobs) { key, value in
                result.report.records += 1
                let id = SHA256Key(key)
                let row = try BlobRow(value)
                guard let manifest = try txn.withValue(keyspace.manifests, key, { try Manifest(encoded: $0) }) else {
                    problem("blob \(id) has no manifest")
                    return true
                }
                if manifest.totalLength != row.size { problem("blob \(id) is \(row.size) bytes but its manifest covers \(manifest.totalLength)") }
                if manifest.count != row.chunkCount { problem("blob \(id) lists \(row.chunkCount) chunks, its manifest \(manifest.count)") }
                if row.refcount <= 0 { problem("blob \(id) has refcount \(row.refcount)") }
                for i in 0..<manifest.count where manifest.key(at: i) != .zero { references[manifest.key(at: i), default: 0] += 1 }
                return true
            }

            // Packs: every committed byte read, every record checked.
            var packRows: [UInt32: PackRow] = [:]
            try txn.forEach(keyspace.packs) { key, value in
                packRows[UInt32(bigEndian: key.loadUnaligned(as: UInt32.self))] = try PackRow(value)
                return true
            }
            var scanned: [UInt32: [FoundRecord]] = [:]
            var adopted: [UInt32: Int] = [:]
            /// Object packs whose rows are taken as they are (not read: see ``check(scrub:progress:)``).
            var trusted: Set<UInt32> = []
            let files = Set(try PackSet.packFiles(in: packs.directory).map(\.id))
            for id in files.union(packRows.keys).sorted() {
                let name = PackFormat.fileName(id)
                let file: FileDescriptor
                let end: Int
                if packRows[id]?.store != nil {
                    switch objects[id] {
                    case .scanned(let records, let bytes, let problems):
                        problems.forEach(problem)
                        scanned[id] = records
                        result.report.bytesScanned += bytes
                        continue
                    case .problem(let text):
                        problem(text)
                        trusted.insert(id)
                        continue
                    case .unchecked(let text):
                        result.report.notes.append(text)
                        trusted.insert(id)
                        continue
                    case .present, nil:
                        // nil: committed after the store was asked, newer than this check.
                        trusted.insert(id)
                        continue
                    }
                } else if let row = packRows[id] {
                    guard files.contains(id), let opened = try? packs.reader(for: id) else {
                        problem("pack \(name) is missing, yet \(row.records) records are committed in it")
                        continue
                    }
                    file = opened
                    let size = try file.size()
                    if size < row.committedLength { problem("pack \(name) is \(size) bytes, shorter than its committed \(row.committedLength)") }
                    end = min(size, row.committedLength)
                } else {
                    // No row: a live writer's new pack (locked: not ours to judge) or a leftover.
                    guard let locked = try packs.lockForMaintenance(id) else { continue }
                    file = locked
                    end = try file.size()
                    problem("pack \(name) has no committed row (left by a crash, or its index rows were lost)")
                }
                let scannedBefore = result.report.bytesScanned
                let (records, read, lastEnd) = try scanRecords(
                    of: file, id: id, end: end, scrub: scrub, problem: problem, progress: { progress(scannedBefore + $0) })
                result.report.bytesScanned += read
                scanned[id] = records
                if packRows[id] == nil {
                    let block = PackAppender.blockSize
                    adopted[id] = min(end, (lastEnd + block - 1) / block * block)
                }
            }

            // Chunk rows against references and records.
            var live: [UInt32: Int] = [:]
            var located: Set<SHA256Key> = []
            try txn.forEach(keyspace.chunks) { key, value in
                result.report.chunks += 1
                let chunkKey = SHA256Key(key)
                let row = try ChunkRow(value)
                let expected = references[chunkKey] ?? 0
                var fixed = row
                if row.refcount != expected {
                    problem("chunk \(chunkKey) has refcount \(row.refcount) but \(expected) manifest references")
                    fixed.refcount = expected
                    fixed.deadSince = expected > 0 ? 0 : (row.refcount > 0 ? now : row.deadSince)
                }
                let isRecord: Bool
                if trusted.contains(row.packID) {
                    isRecord = row.offset + row.recordSize <= packRows[row.packID]?.committedLength ?? 0
                } else if let found = Self.record(at: row.offset, in: scanned[row.packID] ?? []) {
                    isRecord = found.key == chunkKey && found.header.storedLength == row.storedLength && found.header.rawLength == row.rawLength
                } else {
                    isRecord = false
                }
                if isRecord {
                    located.insert(chunkKey)
                    if expected > 0 { live[row.packID, default: 0] += row.recordSize }
                    if fixed != row { result.fixes.chunkRows.append((chunkKey, fixed, "refcount of chunk \(chunkKey) set to \(expected)")) }
                } else {
                    if expected > 0 || row.refcount > 0 {
                        problem(
                            "chunk \(chunkKey) is recorded at \(PackFormat.fileName(row.packID)) offset \(row.offset), where no intact record of it is"
                        )
                    }
                }
                return true
            }

            // Rows to rebuild from the packs: chunks whose row is missing or points at nothing.
            var rebuilt: Set<SHA256Key> = []
            for id in scanned.keys.sorted() {
                for record in scanned[id] ?? [] where !located.contains(record.key) && !rebuilt.contains(record.key) {
                    rebuilt.insert(record.key)
                    let refs = references[record.key] ?? 0
                    let row = ChunkRow(
                        packID: id, offset: record.offset, storedLength: record.header.storedLength, rawLength: record.header.rawLength,
                        codec: record.header.codec, refcount: refs, deadSince: refs > 0 ? 0 : now)
                    if refs > 0 { live[id, default: 0] += row.recordSize }
                    result.fixes.chunkRows.append((record.key, row, "chunk \(record.key) row rebuilt from \(PackFormat.fileName(id))"))
                }
            }
            for (key, count) in references where !located.contains(key) {
                if try !txn.contains(keyspace.chunks, key.bytes) { problem("chunk \(key) is referenced \(count) times but has no row") }
                if !rebuilt.contains(key) { problem("chunk \(key) is referenced \(count) times and no pack holds it: its blobs are damaged") }
            }

            // Pack accounting: live = records live rows point at, dead = every other record
            // (of a trusted object pack, only its live bytes can be checked).
            for id in trusted {
                guard var row = packRows[id], row.liveBytes != live[id] ?? 0 else { continue }
                problem("pack \(PackFormat.fileName(id)) counts \(row.liveBytes) live bytes; its chunk rows say \(live[id] ?? 0)")
                row.deadBytes += row.liveBytes - (live[id] ?? 0)
                row.liveBytes = live[id] ?? 0
                result.fixes.packRows.append((id, row, "pack \(PackFormat.fileName(id)) accounting recomputed"))
            }
            for (id, records) in scanned {
                let total = records.reduce(0) { $0 + $1.size }
                let liveBytes = live[id] ?? 0
                var expected = packRows[id] ?? PackRow(committedLength: adopted[id] ?? 0)
                let stored = packRows[id]
                expected.liveBytes = liveBytes
                expected.deadBytes = total - liveBytes
                expected.records = records.count
                if let stored, stored != expected {
                    problem(
                        "pack \(PackFormat.fileName(id)) counts \(stored.liveBytes) live / \(stored.deadBytes) dead bytes in \(stored.records) records; its records say \(liveBytes) / \(total - liveBytes) in \(records.count)"
                    )
                }
                if stored != expected {
                    result.fixes.packRows.append(
                        (id, expected, "pack \(PackFormat.fileName(id)) \(stored == nil ? "adopted" : "accounting recomputed")"))
                }
            }

            var stale = 0
            try txn.forEach(keyspace.sessions) { _, value in
                if try !SessionRow(value).ownerIsAlive { stale += 1 }
                return true
            }
            result.fixes.removeStaleSessions = stale > 0
        }
        return result
    }

    /// The record starting at `offset` in a scan (records are in offset order).
    private static func record(at offset: Int, in records: [FoundRecord]) -> FoundRecord? {
        var low = 0
        var high = records.count
        while low < high {
            let mid = (low + high) / 2
            if records[mid].offset < offset { low = mid + 1 } else { high = mid }
        }
        return low < records.count && records[low].offset == offset ? records[low] : nil
    }

    private static func apply(_ fixes: Fixes, in txn: borrowing WriteTransaction, keyspace: Keyspace) throws -> [String] {
        var done: [String] = []
        for (key, row, why) in fixes.chunkRows {
            try txn.put(keyspace.chunks, key.bytes, row.encoded())
            done.append(why)
        }
        for (id, row, why) in fixes.packRows {
            try txn.put(keyspace.packs, Keyspace.packKey(id), row.encoded())
            try raiseHighWater(id, in: txn, keyspace: keyspace)
            done.append(why)
        }
        if fixes.removeStaleSessions {
            let n = try removeStaleSessions(in: txn, keyspace: keyspace)
            done.append("removed \(n) write sessions of processes that are gone")
        }
        return done
    }
}
