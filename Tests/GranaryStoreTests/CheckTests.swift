import Foundation
import GranaryCodec
import GranaryLMDB
import GranaryTesting
import Testing

@testable import GranaryStore

/// fsck: damage a store in each way it can be damaged, check that the damage is found and
/// named, and that repair fixes what the store's own contents allow.
@Suite(.consistencyChecked) struct CheckTests {
    @Test func aCleanStoreChecksClean() async throws {
        let t = try TestStore()
        let a = try await t.put(randomBytes(2 << 20, seed: 40))
        _ = try await t.put(randomBytes(1 << 20, seed: 41))
        try await t.store.release(a.blob.id)
        let report = try await t.store.check(scrub: true)
        #expect(report.ok, "\(report.errors)")
        #expect(report.records == 1)
        #expect(report.chunks > 10)
        #expect(report.bytesScanned > 3 << 20)
    }

    @Test func aFlippedByteIsFoundByTheCRCAndByScrub() async throws {
        let t = try TestStore(check: false)
        _ = try await t.put(randomBytes(1 << 20, seed: 42))
        try flipByte(in: t, at: 200_000)
        let report = try await t.store.check()
        #expect(!report.ok)
        #expect(report.errors.contains { $0.contains("fails its checksum") && $0.contains(t.packFiles[0]) }, "\(report.errors)")
    }

    @Test func scrubFindsBytesWhoseChecksumWasForgedToo() async throws {
        let t = try TestStore()
        let put = try await t.put(randomBytes(1 << 20, seed: 43))
        // Rewrite one record's bytes and fix up both of its checksums: only re-hashing can tell.
        let (key, row) = try #require(try firstChunk(of: put.blob.id, in: t.store))
        let path = t.path + "/packs/" + PackFormat.fileName(row.packID)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(row.offset))
        var record = try #require(try handle.read(upToCount: row.recordSize))
        record[PackFormat.recordHeaderSize + 10] ^= 0xFF
        var header = try record.withUnsafeBytes { try RecordHeader.decode($0, location: "test") }
        header.storedCRC = record.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[PackFormat.recordHeaderSize...])) }
        record.withUnsafeMutableBytes { header.encode(into: $0) }
        try handle.seek(toOffset: UInt64(row.offset))
        try handle.write(contentsOf: record)
        try handle.close()

        #expect(try await t.store.check().ok)
        let scrubbed = try await t.store.check(scrub: true)
        #expect(scrubbed.errors.contains { $0.contains("\(key)") && $0.contains("does not hash to its name") }, "\(scrubbed.errors)")
    }

    @Test func wrongRefcountsAndAccountingAreFoundAndRepaired() async throws {
        let t = try TestStore()
        let put = try await t.put(randomBytes(2 << 20, seed: 44))
        let (key, row) = try #require(try firstChunk(of: put.blob.id, in: t.store))
        var wrong = row
        wrong.refcount = 5
        let keyspace = t.store.keyspace
        let encoded = wrong.encoded()
        try await t.store.coordinator.submit { txn in try txn.put(keyspace.chunks, key.bytes, encoded) }

        let found = try await t.store.check()
        #expect(found.errors.contains { $0.contains("refcount 5 but 1 manifest references") }, "\(found.errors)")
        let repaired = try await t.store.repair()
        #expect(repaired.ok, "\(repaired.errors)")
        #expect(repaired.repaired.contains { $0.contains("refcount of chunk \(key) set to 1") })
        #expect(try await t.read(put.blob.id) == randomBytes(2 << 20, seed: 44))
    }

    /// The check every store test ends with (`.consistencyChecked`) fails on a refcount broken
    /// behind the store's back; repaired here, so this test's own check passes.
    @Test func theCheckAfterEachTestFindsABrokenRefcount() async throws {
        let path: String
        do {
            let t = try TestStore()
            let put = try await t.put(randomBytes(1 << 20, seed: 46))
            let (key, found) = try #require(try firstChunk(of: put.blob.id, in: t.store))
            var row = found
            row.refcount += 1
            let keyspace = t.store.keyspace
            let encoded = row.encoded()
            try await t.store.coordinator.submit { txn in try txn.put(keyspace.chunks, key.bytes, encoded) }
            path = t.path
        }
        let problems = try await storeProblems(at: path)
        #expect(problems.contains { $0.contains("refcount 2 but 1 manifest references") }, "\(problems)")
        #expect(try await TestStore(path: path).store.repair().ok)
        #expect(try await storeProblems(at: path).isEmpty)
    }

    /// The chunk table can be rebuilt from the packs alone.
    @Test func aLostChunkTableIsRebuiltFromThePacks() async throws {
        let t = try TestStore()
        let data = randomBytes(3 << 20, seed: 45)
        let put = try await t.put(data)
        let chunks = try t.store.stats().chunks
        t.store.sealOpenPacks()
        let keyspace = t.store.keyspace
        try await t.store.coordinator.submit { txn in
            try txn.removeAll(keyspace.chunks)
            try txn.removeAll(keyspace.packs)
        }
        await #expect(throws: StoreError.self) { _ = try await t.read(put.blob.id) }
        let found = try await t.store.check()
        #expect(found.errors.contains { $0.contains("has no row") })
        #expect(found.errors.contains { $0.contains("has no committed row") })

        let repaired = try await t.store.repair()
        #expect(repaired.ok, "\(repaired.errors)")
        #expect(repaired.repaired.contains { $0.contains("adopted") })
        #expect(try t.store.stats().chunks == chunks)
        #expect(try await t.read(put.blob.id) == data)
        #expect(try await t.store.verify(scrub: true).isEmpty)
    }

    @Test func aMissingPackIsNamedWithTheBlobsItBreaks() async throws {
        let t = try TestStore(check: false)
        _ = try await t.put(randomBytes(1 << 20, seed: 46))
        let name = t.packFiles[0]
        t.store.sealOpenPacks()
        try FileManager.default.removeItem(atPath: t.path + "/packs/" + name)
        let report = try await t.store.check()
        #expect(report.errors.contains { $0.contains("pack \(name) is missing") })
        #expect(report.errors.contains { $0.contains("no pack holds it") })
        // Repair cannot make data up: the problems remain.
        let repaired = try await t.store.repair()
        #expect(!repaired.ok)
    }

    // MARK: Helpers

    private func flipByte(in t: TestStore, at offset: UInt64) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: t.path + "/packs/" + t.packFiles[0]))
        try handle.seek(toOffset: offset)
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [byte ^ 0x40])
        try handle.close()
    }

    private func firstChunk(of blob: SHA256Key, in store: BlobStore) throws -> (SHA256Key, ChunkRow)? {
        try store.environment.read { txn in
            guard let bytes = try txn.value(store.keyspace.manifests, blob.bytes) else { return nil }
            let manifest = try bytes.withUnsafeBytes { try Manifest(encoded: $0) }
            let key = manifest.key(at: 0)
            return try txn.value(store.keyspace.chunks, key.bytes).map { value in (key, try value.withUnsafeBytes { try ChunkRow($0) }) }
        }
    }
}
