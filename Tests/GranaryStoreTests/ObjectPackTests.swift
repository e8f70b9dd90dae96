import Foundation
import GranaryCodec
import GranaryObjectStore
import GranaryTesting
import NIOCore
import Testing

@testable import GranaryStore

/// Packs in OpenStack Swift and S3 (the real all-in-one of tools/swift-peer): sealed, sent whole,
/// read back through the node cache, checked by fsck, and failures that leave nothing behind.
@Suite(.serialized, .consistencyChecked) struct ObjectPackTests {
    /// A container or bucket of this test's own: the peer's data outlives test processes.
    static func unique(_ what: String) -> String { "granary-\(what)-\(UUID().uuidString.prefix(8).lowercased())" }

    static func swift(_ container: String = unique("packs"), timeout: TimeAmount = .seconds(120)) throws -> SwiftObjectStore {
        let peer = try Peers.swift()
        return SwiftObjectStore(
            container: container, credentials: .init(authURL: try #require(peer["SWIFT_PEER_AUTH_URL"]), user: "test:tester", key: "testing"),
            timeout: timeout)
    }

    static func s3() throws -> S3ObjectStore {
        let peer = try Peers.swift()
        return try S3ObjectStore(
            endpoint: try #require(peer["SWIFT_PEER_S3_URL"]), bucket: unique("packs"), accessKey: "test:tester", secretKey: "testing",
            region: "us-east-1")
    }

    /// Small packs, so that a few MiB make several of them.
    static var settings: StoreSettings {
        var settings = StoreSettings()
        settings.packSizeLimit = 2 << 20
        return settings
    }

    static func placement(_ objects: any ObjectStore) -> PackPlacement {
        PackPlacement(objectStores: ["remote": objects], defaultStore: "remote", cacheMaxBytes: 256 << 20)
    }

    /// Every object of a store's container (a test's container holds only its store's packs).
    static func objects(_ store: any ObjectStore) async throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try await store.list(prefix: "").map { ($0.name, $0.size) })
    }

    static func cache(_ t: TestStore) throws -> PackCache { try #require(t.store.objectPacks["remote"]).cache }

    /// Uploads, reads (warm from the written-through cache, then cold after a restart), dedup
    /// without a PUT, and fsck with and without --scrub, against one object store.
    static func roundTrip(_ objects: any ObjectStore) async throws {
        let t = try TestStore(settings: settings, placement: placement(objects))
        let data = randomBytes(7 << 20, seed: 241)
        let put = try await t.put(data)
        // Every pack went to the store, whole, and no local pack or spooled file is left.
        let stats = try t.store.stats()
        let stored = try await Self.objects(objects)
        #expect(stats.packs >= 3 && stored.count == stats.packs)
        for pack in stats.packDetails {
            #expect(pack.store == "remote")
            #expect(stored.first { $0.key.hasSuffix("/" + pack.name) }?.value == pack.fileBytes, "\(pack.name)")
        }
        #expect(t.packFiles.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path + "/cache/spool").isEmpty)
        // A read right after the upload comes from the node's own copy: no GET.
        #expect(try await t.read(put.blob.id) == data)
        #expect(try await cache(t).fetches == 0)
        // The same bytes again send nothing; an edit sends only its new chunks' pack.
        _ = try await t.put(data)
        #expect(try await Self.objects(objects).count == stored.count)
        var edited = data
        edited.replaceSubrange(0..<(256 << 10), with: randomBytes(256 << 10, seed: 242))
        let second = try await t.put(edited)
        #expect(try await Self.objects(objects).count == stored.count + 1)
        #expect(try await t.store.check().ok)

        // After a restart the cache is empty: reads are ranged GETs of extents, and a range
        // fetches only what covers it.
        let path = t.path
        _ = consume t
        let cold = try TestStore(settings: settings, placement: placement(objects), path: path)
        let middle = (3 << 20)..<((3 << 20) + 1000)
        #expect(try await cold.read(put.blob.id, range: middle) == Array(data[middle]))
        #expect(try await cache(cold).fetches == 1)
        #expect(try await cold.read(second.blob.id) == edited)
        #expect(try await cold.read(put.blob.id) == data)
        let scrub = try await cold.store.check(scrub: true)
        #expect(scrub.ok && scrub.errors.isEmpty && scrub.notes.isEmpty)
        #expect(scrub.bytesScanned >= stats.storedBytes)
    }

    @Test func packsGoToSwiftWithTempauth() async throws {
        try await Self.roundTrip(try Self.swift())
    }

    @Test func packsGoToS3() async throws {
        try await Self.roundTrip(try Self.s3())
    }

    @Test func packsGoToSwiftWithKeystone() async throws {
        try await Peers.withKeystone { keystone, _ in
            let objects = SwiftObjectStore(
                container: Self.unique("keystone"), credentials: .init(authURL: keystone, user: "admin:admin", key: "secret"))
            let t = try TestStore(settings: Self.settings, placement: Self.placement(objects))
            let data = randomBytes(3 << 20, seed: 243)
            let put = try await t.put(data)
            let path = t.path
            _ = consume t
            let cold = try TestStore(settings: Self.settings, placement: Self.placement(objects), path: path)
            #expect(try await cold.read(put.blob.id) == data)
            #expect(try await !Self.objects(objects).isEmpty)
        }
    }

    /// A flipped byte in a stored object is a CRC error naming the chunk and the pack, never data;
    /// fsck --scrub finds it too.
    @Test func aDamagedObjectIsNeverServed() async throws {
        let objects = try Self.swift()
        let t = try TestStore(settings: Self.settings, placement: Self.placement(objects))
        let data = randomBytes(1 << 20, seed: 244)
        let put = try await t.put(data)
        let path = t.path
        _ = consume t
        let (name, size) = try #require(try await Self.objects(objects).first)
        var bytes = Array(try await objects.get(name, range: nil).readableBytesView)
        #expect(bytes.count == size)
        bytes[PackFormat.fileHeaderSize + PackFormat.recordHeaderSize + 100] ^= 0x40
        try await objects.delete(name)
        let damaged = ByteBuffer(bytes: bytes)
        try await objects.put(name, body: .bytes(damaged), md5: StreamingDigest.hash(.md5, bytes).bytes)

        let cold = try TestStore(settings: Self.settings, placement: Self.placement(objects), path: path)
        let error = await #expect(throws: StoreError.self) { _ = try await cold.read(put.blob.id) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("checksum") == true && error?.message.contains(PackFormat.fileName(1)) == true)
        let scrub = try await cold.store.check(scrub: true)
        // As for a local pack: the damaged record, then what it means for its chunk and pack.
        #expect(scrub.errors.first?.contains("fails its checksum") == true && scrub.errors.first?.contains(PackFormat.fileName(1)) == true)
    }

    /// An object store that cannot be reached fails the upload as unavailable (the APIs' 503):
    /// nothing is referenced and nothing is left in the spool.
    @Test func anUnreachableStoreFailsTheUploadCleanly() async throws {
        let objects = SwiftObjectStore(
            container: Self.unique("down"),
            credentials: .init(authURL: "http://127.0.0.1:\(try TestPorts.free())/auth/v1.0", user: "test:tester", key: "testing"),
            timeout: .seconds(2))
        let t = try TestStore(settings: Self.settings, placement: Self.placement(objects))
        let error = await #expect(throws: StoreError.self) { _ = try await t.put(randomBytes(5 << 20, seed: 245)) }
        #expect(error?.code == .unavailable)
        let stats = try t.store.stats()
        #expect(stats.blobs == 0 && stats.chunks == 0 && stats.packs == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path + "/cache/spool").isEmpty)
        #expect(try await t.store.check().ok)
    }

    /// Local packs written before the store moved to an object store stay readable beside the
    /// new object packs; a pack spooled by a crashed process is removed at the next start.
    @Test func localPacksStayReadableAndSpoolLeftoversGo() async throws {
        let local = try TestStore(settings: Self.settings)
        let old = randomBytes(3 << 20, seed: 246)
        let oldPut = try await local.put(old)
        let objects = try Self.swift()
        let path = local.path
        _ = consume local
        let t = try TestStore(settings: Self.settings, placement: Self.placement(objects), path: path)
        let new = randomBytes(3 << 20, seed: 247)
        let newPut = try await t.put(new)
        #expect(try await t.read(oldPut.blob.id) == old)
        #expect(try await t.read(newPut.blob.id) == new)
        #expect(try t.store.stats().packDetails.contains { $0.store == nil } && t.store.stats().packDetails.contains { $0.store == "remote" })

        let leftover = path + "/cache/spool/" + PackFormat.fileName(9999)
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data(count: 4096)))
        _ = consume t
        let restarted = try TestStore(settings: Self.settings, placement: Self.placement(objects), path: path)
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(try await restarted.read(newPut.blob.id) == new)
    }

    static func gc(retireDelay: Int = 600, orphanAge: Int = 86400) -> GCOptions {
        var options = GCOptions()
        options.grace = 0
        options.retireDelay = retireDelay
        options.orphanAge = orphanAge
        return options
    }

    /// Compaction of an object pack: live records copied by ranged GETs into a new pack in the
    /// same store, the old one retired and deleted only after the retire delay; a reader that
    /// planned against it before re-resolves once it is gone.
    @Test func gcCompactsObjectPacksAndRetiresThemLater() async throws {
        let objects = try Self.swift()
        let t = try TestStore(settings: Self.settings, placement: Self.placement(objects))
        let whole = randomBytes(1_500_000, seed: 248)
        let half = Array(whole[0..<700_000])
        let wholePut = try await t.put(whole)
        let halfPut = try await t.put(half)
        // The half's chunks are dedup hits but for the one its end cuts: a small pack of its own.
        let before = try await Self.objects(objects).count
        #expect(before == 2)
        #expect(try await t.store.release(wholePut.blob.id))
        let path = t.path
        _ = consume t

        // A cold node plans a read of the half, then GC compacts its pack under it.
        let cold = try TestStore(settings: Self.settings, placement: Self.placement(objects), path: path)
        let reader = try cold.store.reader(halfPut.blob.id)
        let report = try await cold.store.collectGarbage(Self.gc())
        #expect(report.packsCompacted == 1 && report.chunksReclaimed > 0 && report.retiredObjectsRemoved == 0)
        #expect(try await Self.objects(objects).count == before + 1)  // the old object waits out the retire delay
        let later = try await cold.store.collectGarbage(Self.gc(retireDelay: 0))
        #expect(later.retiredObjectsRemoved == 1 && later.errors.isEmpty)
        let left = try await Self.objects(objects)
        #expect(try left.count == before && left.values.reduce(0, +) == cold.store.stats().storedBytes)
        var read: [UInt8] = []
        repeat {
            try await reader.prepareNext()
        } while try reader.readNext { read.append(contentsOf: $0) }
        #expect(read == half)
        #expect(try await cold.read(halfPut.blob.id) == half)
        #expect(try await cold.store.check(scrub: true).ok)
    }

    /// An object no row references is swept once it is older than the orphan age, and only
    /// objects under this store's own prefix are considered.
    @Test func orphanObjectsAreSweptOnceOld() async throws {
        let objects = try Self.swift()
        let t = try TestStore(settings: Self.settings, placement: Self.placement(objects))
        let put = try await t.put(randomBytes(1 << 20, seed: 249))
        let ours = try #require(try await Self.objects(objects).keys.first)
        let prefix = String(ours.prefix { $0 != "/" }) + "/"
        let orphan = prefix + PackFormat.fileName(4000)
        let foreign = "0123456789abcdef/" + PackFormat.fileName(4000)
        for name in [orphan, foreign] {
            let body = ByteBuffer(bytes: randomBytes(5000, seed: 250))
            try await objects.put(name, body: .bytes(body), md5: StreamingDigest.hash(.md5, Array(body.readableBytesView)).bytes)
        }
        #expect(try await t.store.collectGarbage(Self.gc(orphanAge: 3600)).orphanObjectsRemoved == 0)
        let report = try await t.store.collectGarbage(Self.gc(orphanAge: 0))
        #expect(report.orphanObjectsRemoved == 1 && report.errors.isEmpty)
        #expect(try await Set(Self.objects(objects).keys) == [ours, foreign])
        #expect(try await t.read(put.blob.id) == randomBytes(1 << 20, seed: 249))
    }
}
