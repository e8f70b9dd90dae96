import Foundation
import GranaryCodec
import GranaryStore
import GranaryTesting
import Testing

@Suite(.consistencyChecked) struct GarbageCollectorTests {
    private func reclaimNow() -> GCOptions {
        var options = GCOptions()
        options.grace = 0
        return options
    }

    @Test func deadChunksAreReclaimedAndLiveOnesMoved() async throws {
        let t = try TestStore()
        let shared = randomBytes(2 << 20, seed: 20)
        let a = try await t.put(shared + randomBytes(3 << 20, seed: 21))
        let b = try await t.put(shared + randomBytes(1 << 20, seed: 22))
        #expect(try await t.store.release(a.blob.id))
        t.store.sealOpenPacks()
        let before = try t.store.stats()
        #expect(before.deadBytes > 2 << 20)

        let report = try await t.store.collectGarbage(reclaimNow())
        #expect(report.packsCompacted == 1)
        #expect(report.chunksReclaimed > 0)
        #expect(report.reclaimedBytes > 2 << 20)
        #expect(report.errors.isEmpty)
        let after = try t.store.stats()
        #expect(after.deadBytes == 0)
        #expect(after.storedBytes < before.storedBytes - (2 << 20))
        #expect(try await t.read(b.blob.id) == shared + randomBytes(1 << 20, seed: 22))
        #expect(try await t.store.verify(scrub: true).isEmpty)
        #expect(try t.store.lastGC()?.chunksReclaimed == report.chunksReclaimed)

        // Nothing is left to do: a second run changes nothing.
        let again = try await t.store.collectGarbage(reclaimNow())
        #expect(again.packsCompacted == 0 && again.chunksReclaimed == 0)
    }

    @Test func theGracePeriodAndDryRunKeepEverything() async throws {
        let t = try TestStore()
        let a = try await t.put(randomBytes(3 << 20, seed: 23))
        _ = try await t.put(randomBytes(1 << 20, seed: 24))
        try await t.store.release(a.blob.id)
        t.store.sealOpenPacks()
        let before = try t.store.stats()

        var dry = reclaimNow()
        dry.dryRun = true
        let planned = try await t.store.collectGarbage(dry)
        #expect(planned.dryRun && planned.packsCompacted == 1 && planned.reclaimedBytes > 2 << 20)
        #expect(try t.store.stats() == before)

        let graced = try await t.store.collectGarbage(GCOptions())
        #expect(graced.chunksReclaimed == 0)
        #expect(try t.store.stats() == before)
    }

    @Test func packsStillOpenForAppendingAreLeftAlone() async throws {
        let t = try TestStore()
        let a = try await t.put(randomBytes(2 << 20, seed: 25))
        try await t.store.release(a.blob.id)
        // The pack is still this store's open pack: uploads may append to it.
        let report = try await t.store.collectGarbage(reclaimNow())
        #expect(report.packsCompacted == 0)
        t.store.sealOpenPacks()
        #expect(try await t.store.collectGarbage(reclaimNow()).packsCompacted == 1)
        #expect(t.packFiles.isEmpty)
        #expect(try await t.store.verify().isEmpty)
    }

    /// An upload that found a chunk live and referenced it keeps it, even if every other holder
    /// lets go and GC runs before the upload commits.
    @Test func anInFlightUploadProtectsTheChunksItReferences() async throws {
        let t = try TestStore()
        let data = randomBytes(3 << 20, seed: 26)
        let first = try await t.put(data)
        t.store.sealOpenPacks()

        let session = t.store.beginIngest(digests: [.sha256])
        try await session.write(data)
        // Wait until the lanes have looked the chunks up (found them live): finish does that.
        let staged = try await session.finish()
        #expect(staged.newChunks == 0)

        try await Task.sleep(nanoseconds: 1_100_000_000)  // the chunks die a second after the session began
        try await t.store.release(first.blob.id)
        let report = try await t.store.collectGarbage(reclaimNow())
        #expect(report.chunksReclaimed == 0)

        let second = try await t.store.commit(staged)
        #expect(second.blob.id == first.blob.id)
        #expect(try await t.read(second.blob.id) == data)
        #expect(try await t.store.verify(scrub: true).isEmpty)
    }

    @Test func aReaderPlannedBeforeCompactionStillReadsTheRightBytes() async throws {
        let t = try TestStore()
        let a = try await t.put(randomBytes(3 << 20, seed: 27))
        let kept = randomBytes(3 << 20, seed: 28)
        let b = try await t.put(kept)
        try await t.store.release(a.blob.id)
        t.store.sealOpenPacks()
        let reader = try t.store.reader(b.blob.id)
        var out: [UInt8] = []
        try reader.readNext { out.append(contentsOf: $0) }  // its descriptor is now cached
        #expect(try await t.store.collectGarbage(reclaimNow()).packsCompacted == 1)
        while try reader.readNext(into: { out.append(contentsOf: $0) }) {}
        #expect(out == kept)
    }

    @Test func theThrottleCapsTheCopyRate() async throws {
        let t = try TestStore()
        let a = try await t.put(randomBytes(1 << 20, seed: 31))
        let kept = try await t.put(randomBytes(3 << 20, seed: 32))
        try await t.store.release(a.blob.id)
        t.store.sealOpenPacks()
        var options = reclaimNow()
        options.threshold = 0.1
        options.throttleBytesPerSecond = 2_000_000
        let report = try await t.store.collectGarbage(options)
        #expect(report.bytesCopied >= 3 << 20)
        // 3 MiB at 2 MB/s cannot take less than ~1.5 s; unthrottled it takes milliseconds.
        #expect(report.seconds >= 1.4, "copied \(report.bytesCopied) bytes in \(report.seconds) s")
        #expect(try await t.read(kept.blob.id) == randomBytes(3 << 20, seed: 32))
    }

    @Test func deferredCompressionHappensInTheMaintenancePass() async throws {
        var settings = StoreSettings()
        settings.compression = .deferred
        let t = try TestStore(settings: settings)
        // Text-like data compresses well.
        let text = Array((0..<200_000).map { "line \($0) of a log that repeats itself\n" }.joined().utf8)
        let put = try await t.put(text)
        t.store.sealOpenPacks()
        let raw = try t.store.stats().storedBytes
        #expect(raw > text.count)
        let report = try await t.store.collectGarbage(reclaimNow())
        #expect(report.chunksCompressed == put.blob.chunks)
        let compressed = try t.store.stats().storedBytes
        #expect(compressed * 4 < raw, "stored \(compressed) of \(raw)")
        #expect(try await t.read(put.blob.id) == text)
        #expect(try await t.store.verify(scrub: true).isEmpty)
        // Compressed once: the next run has nothing to do.
        #expect(try await t.store.collectGarbage(reclaimNow()).chunksCompressed == 0)
    }

    @Test func aDamagedRecordStopsCompactionOfItsPackOnly() async throws {
        let t = try TestStore(check: false)
        let a = try await t.put(randomBytes(2 << 20, seed: 29))
        let b = try await t.put(randomBytes(2 << 20, seed: 30))
        try await t.store.release(a.blob.id)
        t.store.sealOpenPacks()
        // Damage a byte of b, which compaction must copy.
        let pack = t.path + "/packs/" + t.packFiles[0]
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: pack))
        let offset = UInt64(try FileManager.default.attributesOfItem(atPath: pack)[.size] as! Int - 100_000)
        try handle.seek(toOffset: offset)
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [byte ^ 1])
        try handle.close()
        let before = try t.store.stats()
        let report = try await t.store.collectGarbage(reclaimNow())
        #expect(report.packsCompacted == 0)
        #expect(report.errors.count == 1 && report.errors[0].contains("damaged"))
        #expect(try t.store.stats().storedBytes == before.storedBytes)
        await #expect(throws: StoreError.self) { _ = try await t.read(b.blob.id) }
    }

    /// Uploads of overlapping content, deletes and GC runs, all at once, for many rounds.
    @Test func gcRacingUploadsAndDeletesLosesNothing() async throws {
        var settings = StoreSettings()
        settings.packSizeLimit = 4 << 20
        let t = try TestStore(settings: settings)
        let pool = (0..<6).map { randomBytes(1 << 20, seed: 100 + UInt64($0)) }
        func content(_ n: Int) -> [UInt8] {
            // Blobs share 1 MiB pieces of the pool, so chunks die and come back all the time.
            (0..<3).flatMap { pool[(n * 7 + $0 * 5) % pool.count] } + randomBytes(200_000, seed: UInt64(n))
        }
        let live = LiveSet()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<3 {
                group.addTask {
                    for round in 0..<12 {
                        let n = writer * 100 + round
                        let put = try await t.put(content(n))
                        await live.add(put.blob.id, n)
                        if round % 2 == 1, let (victim, _) = await live.removeAny(seed: n) {
                            try await t.store.release(victim)
                        }
                    }
                }
            }
            group.addTask {
                for _ in 0..<15 {
                    t.store.sealOpenPacks()
                    let report = try await t.store.collectGarbage(reclaimNow())
                    #expect(report.errors.isEmpty, "\(report.errors)")
                    try await Task.sleep(nanoseconds: 30_000_000)
                }
            }
            try await group.waitForAll()
        }
        for (id, n) in await live.all {
            let expected = content(n)
            let data = try await t.read(id)
            #expect(data.count == expected.count && data == expected, "blob \(id) of upload \(n)")
        }
        #expect(try await t.store.verify(scrub: true).isEmpty)
        // Everything deleted is reclaimed by a last run.
        for (id, _) in await live.all { try await t.store.release(id) }
        t.store.sealOpenPacks()
        _ = try await t.store.collectGarbage(reclaimNow())
        let stats = try t.store.stats()
        #expect(stats.blobs == 0 && stats.chunks == 0 && stats.storedBytes == 0, "\(stats)")
    }
}

/// Blobs uploaded and not yet deleted, shared by the racing tasks.
actor LiveSet {
    private var blobs: [(SHA256Key, Int)] = []
    func add(_ id: SHA256Key, _ n: Int) { blobs.append((id, n)) }
    func removeAny(seed: Int) -> (SHA256Key, Int)? {
        guard !blobs.isEmpty else { return nil }
        return blobs.remove(at: seed % blobs.count)
    }
    var all: [(SHA256Key, Int)] { blobs }
}
