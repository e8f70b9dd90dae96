import Foundation
import GranaryCodec
import GranaryStore
import GranaryTesting
import Testing

@Suite(.consistencyChecked) struct BlobStoreTests {
    @Test func putThenReadBackWithEveryDigest() async throws {
        let t = try TestStore()
        let data = randomBytes(5_000_017, seed: 1)
        let result = try await t.put(data, digests: DigestAlgorithm.allCases)
        #expect(result.blob.size == data.count)
        for algorithm in DigestAlgorithm.allCases {
            #expect(result.blob.digests[algorithm] == StreamingDigest.hash(algorithm, data))
        }
        #expect(result.newChunks == result.blob.chunks)
        #expect(result.blob.chunks > 30 && result.blob.chunks < 320)
        #expect(try await t.read(result.blob.id) == data)
        #expect(try t.store.info(result.blob.id)?.refcount == 1)
    }

    @Test func theBlobIDDoesNotDependOnHowBytesArrive() async throws {
        let t = try TestStore()
        let data = randomBytes(3_333_333, seed: 2)
        let a = try await t.put(data, pieceSize: 1_000)
        let b = try await t.put(data, pieceSize: 1 << 20)
        let c = try await t.put(data, pieceSize: 3_333_333)
        #expect(a.blob.id == b.blob.id && b.blob.id == c.blob.id)
        // The second and third puts stored nothing: one refcount increment each.
        #expect(b.newChunks == 0 && b.bytesWritten == 0)
        #expect(c.newChunks == 0 && c.bytesWritten == 0)
        #expect(c.blob.refcount == 3)
    }

    @Test func sharedContentIsStoredOnce() async throws {
        let t = try TestStore()
        let base = randomBytes(4 << 20, seed: 3)
        let first = try await t.put(base)
        var edited = base
        edited.replaceSubrange(1_000_000..<1_000_100, with: randomBytes(300, seed: 99))
        let second = try await t.put(edited)
        #expect(second.blob.id != first.blob.id)
        // Only the chunks around the edit are new.
        #expect(second.newChunks <= 3, "new chunks: \(second.newChunks)")
        #expect(second.bytesWritten < 600 << 10)
        #expect(try await t.read(second.blob.id) == edited)
        #expect(try await t.read(first.blob.id) == base)
        let stats = try t.store.stats()
        #expect(stats.blobs == 2)
        #expect(stats.logicalBytes == base.count + edited.count)
        #expect(stats.dedupRatio > 1.7)
    }

    @Test func zeroChunksStoreNoData() async throws {
        let t = try TestStore()
        var data = [UInt8](repeating: 0, count: 6 << 20)
        data.replaceSubrange(3 << 20..<(3 << 20) + 100_000, with: randomBytes(100_000, seed: 4))
        let result = try await t.put(data)
        #expect(result.bytesWritten < 400_000)
        #expect(try await t.read(result.blob.id) == data)
    }

    @Test func emptyBlob() async throws {
        let t = try TestStore()
        let result = try await t.put([])
        #expect(result.blob.size == 0)
        #expect(result.blob.digests[.sha256]?.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try await t.read(result.blob.id) == [])
    }

    @Test func rangesReadExactlyTheAskedBytes() async throws {
        let t = try TestStore()
        let data = randomBytes(2_500_000, seed: 5)
        let id = try await t.put(data).blob.id
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            let a = Int.random(in: 0..<data.count, using: &generator)
            let b = Int.random(in: a...data.count, using: &generator)
            #expect(try await t.read(id, range: a..<b) == Array(data[a..<b]))
        }
        #expect(try await t.read(id, range: 0..<1) == [data[0]])
        #expect(try await t.read(id, range: (data.count - 1)..<data.count) == [data[data.count - 1]])
        let error = await #expect(throws: StoreError.self) { _ = try await t.read(id, range: 10..<(data.count + 1)) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func releasingTheLastHolderDeletesTheBlobAndCountsDeadBytes() async throws {
        let t = try TestStore()
        let data = randomBytes(2 << 20, seed: 6)
        let first = try await t.put(data)
        _ = try await t.put(data)
        #expect(try await t.store.release(first.blob.id))
        #expect(try t.store.info(first.blob.id)?.refcount == 1)
        #expect(try t.store.stats().deadBytes == 0)
        #expect(try await t.store.release(first.blob.id))
        #expect(try t.store.info(first.blob.id) == nil)
        #expect(try await t.store.release(first.blob.id) == false)
        let stats = try t.store.stats()
        #expect(stats.blobs == 0)
        #expect(stats.deadBytes == first.bytesWritten)
        let error = await #expect(throws: StoreError.self) { _ = try await t.read(first.blob.id) }
        #expect(error?.code == .notFound)
    }

    @Test func aDeadChunkIsWrittenAgainNotResurrected() async throws {
        let t = try TestStore()
        let data = randomBytes(1 << 20, seed: 7)
        let first = try await t.put(data)
        try await t.store.release(first.blob.id)
        let second = try await t.put(data)
        #expect(second.newChunks == first.newChunks)
        #expect(try await t.read(second.blob.id) == data)
        let stats = try t.store.stats()
        #expect(stats.deadBytes == first.bytesWritten)
    }

    @Test func inlineCompressionShrinksCompressibleData() async throws {
        var settings = StoreSettings()
        settings.compression = .inline
        let t = try TestStore(settings: settings)
        let text = Array(String(repeating: "granary keeps many versions of large images. ", count: 100_000).utf8)
        let result = try await t.put(text)
        #expect(result.bytesWritten < text.count / 5)
        #expect(try await t.read(result.blob.id) == text)
        // Incompressible chunks stay raw.
        let random = randomBytes(1 << 20, seed: 8)
        let raw = try await t.put(random)
        #expect(raw.bytesWritten >= random.count)
        #expect(try await t.read(raw.blob.id) == random)
    }

    /// Already-compressed content is not given to zstd chunk after chunk: after a run of chunks
    /// that did not compress, only every 16th is tried, and compressible data that follows is
    /// compressed again once a probe succeeds.
    @Test func compressionIsProbedNotTriedOnIncompressibleRuns() async throws {
        var settings = StoreSettings()
        settings.compression = .inline
        let t = try TestStore(settings: settings)
        let random = randomBytes(8 << 20, seed: 21)
        let text = Array(String(repeating: "version after version, most bytes are shared. ", count: 90_000).utf8)
        let session = t.store.beginIngest(digests: [.sha256])
        try await session.write(random)
        try await session.write(text)
        let staged = try await session.finish()
        #expect(staged.compressionAttempts < staged.newChunks / 2, "\(staged.compressionAttempts) attempts for \(staged.newChunks) chunks")
        #expect(staged.bytesWritten < random.count + text.count / 2, "the text after the random data was compressed")
        let result = try await t.store.commit(staged)
        #expect(try await t.read(result.blob.id) == random + text)
    }

    @Test func aFlippedByteIsDetectedAndNamed() async throws {
        let t = try TestStore(check: false)
        let data = randomBytes(1 << 20, seed: 9)
        let id = try await t.put(data).blob.id
        let pack = t.path + "/packs/" + t.packFiles[0]
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: pack))
        try handle.seek(toOffset: 300_000)
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: 300_000)
        try handle.write(contentsOf: [byte ^ 0x40])
        try handle.close()
        let error = await #expect(throws: StoreError.self) { _ = try await t.read(id) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("checksum") == true)
        #expect(error?.message.contains(t.packFiles[0]) == true)
    }

    /// Compressed records are checked on two threads; a damaged one still fails the read with
    /// an error naming its pack, and the good ones still read back.
    @Test func aDamagedCompressedRecordIsDetectedWhenChecksRunInParallel() async throws {
        var settings = StoreSettings()
        settings.compression = .inline
        let t = try TestStore(settings: settings, check: false)
        let words = ["pack", "chunk", "record", "image", "version", "manifest", "commit", "blob", "digest", "store"].map { Array(($0 + " ").utf8) }
        var text: [UInt8] = []
        for choice in randomBytes(1 << 20, seed: 17) { text += words[Int(choice) % words.count] }
        let id = try await t.put(text).blob.id
        #expect(try await t.read(id) == text)
        let pack = t.path + "/packs/" + t.packFiles[0]
        let size = try FileManager.default.attributesOfItem(atPath: pack)[.size] as! Int
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: pack))
        try handle.seek(toOffset: UInt64(size / 2))
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: UInt64(size / 2))
        try handle.write(contentsOf: [byte ^ 0x40])
        try handle.close()
        let error = await #expect(throws: StoreError.self) { _ = try await t.read(id) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains(t.packFiles[0]) == true)
    }

    @Test func recoveryCutsUncommittedTailsAndOrphanPacks() async throws {
        let t = try TestStore()
        let data = randomBytes(1 << 20, seed: 10)
        let id = try await t.put(data).blob.id
        let pack = t.path + "/packs/" + t.packFiles[0]
        let committedSize = try FileManager.default.attributesOfItem(atPath: pack)[.size] as! Int
        // A crash mid-append leaves bytes past the committed length, and maybe a fresh pack.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: pack))
        try handle.seekToEnd()
        try handle.write(contentsOf: randomBytes(12_345, seed: 11))
        try handle.close()
        #expect(FileManager.default.createFile(atPath: t.path + "/packs/000000ff.pack", contents: Data([1, 2, 3])))
        let path = t.path
        _ = consume t
        let reopened = try TestStore(path: path)
        #expect(try FileManager.default.attributesOfItem(atPath: pack)[.size] as! Int == committedSize)
        #expect(reopened.packFiles == [URL(fileURLWithPath: pack).lastPathComponent])
        #expect(try await reopened.read(id) == data)
    }

    @Test func anAbortedUploadLeavesNothingBehind() async throws {
        let t = try TestStore()
        let kept = try await t.put(randomBytes(1 << 20, seed: 12))
        let sizeBefore = try t.store.stats().storedBytes
        let session = t.store.beginIngest(digests: [.md5])
        try await session.write(randomBytes(3 << 20, seed: 13))
        await session.abort()
        let stats = try t.store.stats()
        #expect(stats.blobs == 1)
        #expect(stats.storedBytes == sizeBefore)
        #expect(try await t.read(kept.blob.id).count == 1 << 20)
    }
}
