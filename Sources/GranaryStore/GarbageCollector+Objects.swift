import Foundation
import GranaryLMDB

#if canImport(Glibc)
    import Glibc
#endif

/// GC of packs in object stores: compaction through ranged GETs into a new sealed pack, retired
/// objects deleted after `gc.retire_delay`, orphan objects swept after `gc.orphan_age`.
extension BlobStore {
    /// Copies the kept records of object pack `plan` (ranged GETs, CRC-checked, not re-hashed)
    /// into a new pack spooled here and sent to the same store, then commits the move and
    /// retires the old pack (its object goes once `gc.retire_delay` has passed).
    func compact(
        _ plan: CompactionPlan,
        in objects: ObjectPacks,
        with copier: RecordCopier,
        throttle: Throttle,
        copiedBytes: (Int) -> Void
    ) async throws -> CompactionOutcome {
        var outcome = CompactionOutcome()
        var moves: [(key: SHA256Key, from: ChunkRow, to: WrittenChunk)] = []
        var output: OpenPack?
        if !plan.keep.isEmpty {
            let pack = try leasePack(for: objects)
            output = pack
            do {
                (moves, outcome.compressed) = try await copier.copyKept(plan, into: pack, throttle: throttle, copiedBytes: copiedBytes) {
                    offset, buffer in try await objects.read(plan.packID, range: offset..<(offset + buffer.count), into: buffer)
                }
                try pack.appender.flushAndSync()
                try await objects.upload(pack.id, path: spool.path(of: pack.id), size: pack.writeOffset)
            } catch {
                spool.giveBack(pack, committed: false)
                throw error
            }
            outcome.copied = moves.reduce(0) { $0 + $1.to.recordSize }
        }
        let keyspace = self.keyspace
        let (drop, source, movesDone) = (plan.drop, plan.packID, moves)
        let target = output.map { ($0.id, 0, $0.writeOffset, Optional(objects.id)) }
        let retire = RetiredPack(retiredAt: Int(time(nil)), store: objects.id)
        do {
            outcome.reclaimed = try await coordinator.submit { txn in
                try Self.commitCompaction(source: source, moves: movesDone, drop: drop, output: target, retire: retire, in: txn, keyspace: keyspace)
            }
        } catch {
            if let output {
                spool.giveBack(output, committed: false)
                Task.detached { try? await objects.delete(output.id) }
            }
            throw error
        }
        if let output { await settleSentPack(output, in: objects) }
        return outcome
    }

    /// Deletes the objects of packs retired at least `delay` seconds ago, then their rows (a
    /// delete that finds the object gone is done). A store that fails is tried at the next run.
    func removeRetiredObjects(after delay: Int, errors: inout [String]) async throws -> Int {
        let keyspace = self.keyspace
        let now = Int(time(nil))
        let due: [(UInt32, RetiredPack)] = try environment.read { txn in
            var due: [(UInt32, RetiredPack)] = []
            try txn.forEach(keyspace.retired) { key, value in
                let retired = try RetiredPack(value)
                if retired.retiredAt + delay <= now { due.append((UInt32(bigEndian: key.loadUnaligned(as: UInt32.self)), retired)) }
                return true
            }
            return due
        }
        var removed = 0
        for (id, retired) in due {
            guard let objects = objectPacks[retired.store] else { continue }
            do {
                try await objects.delete(id)
            } catch {
                errors.append("\(PackFormat.fileName(id)): \(error)")
                continue
            }
            _ = try await coordinator.submit { txn in try txn.delete(keyspace.retired, Keyspace.packKey(id)) }
            removed += 1
        }
        return removed
    }

    /// Sweeps objects under this store's prefix that no row references (packs of uploads that
    /// failed or crashed after sending them) once they are `age` seconds old. The listing only
    /// proposes: each candidate is judged by the rows (no pack row of this store, not retired)
    /// and by this node's spool (not a pack still being sent).
    func removeOrphanObjects(olderThan age: Int, errors: inout [String]) async throws -> Int {
        var removed = 0
        for objects in objectPacks.values.sorted(by: { $0.id < $1.id }) {
            let listed: [(pack: UInt32, written: Date?)]
            do {
                listed = try await objects.list()
            } catch {
                errors.append("\(error)")
                continue
            }
            let cutoff = Date(timeIntervalSinceNow: -Double(age))
            let old = listed.filter { $0.written.map { $0 <= cutoff } ?? false }.map(\.pack)
            guard !old.isEmpty else { continue }
            let spooled = Set(try PackSet.packFiles(in: spool.directory).map(\.id))
            let keyspace = self.keyspace
            let orphans = try environment.read { txn in
                try old.filter { id in
                    let key = Keyspace.packKey(id)
                    let row = try key.withUnsafeBytes { k in try txn.withValue(keyspace.packs, k) { try PackRow($0) } }
                    let retired = try txn.contains(keyspace.retired, key)
                    return row?.store != objects.id && !retired && !spooled.contains(id)
                }
            }
            for id in orphans {
                do {
                    try await objects.delete(id)
                    removed += 1
                } catch {
                    errors.append("\(PackFormat.fileName(id)): \(error)")
                }
            }
        }
        return removed
    }
}
