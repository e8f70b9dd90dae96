import Foundation
import GranaryCodec
import GranaryStore
import GranaryTesting
import Testing

/// Simulates a power cut at the I/O layer: it remembers every write to files under `root` that
/// no sync has covered yet; `cut()` turns the power off (every later write and sync fails) and
/// returns those writes, which the test then destroys as a real power cut may.
final class PowerCut: FaultInjector, @unchecked Sendable {
    let root: String
    private let lock = NSLock()
    private var unsynced: [String: [Range<Int>]] = [:]
    private var off = false

    init(root: String) { self.root = root }

    func beforeWrite(path: String, offset: Int, buffers: [UnsafeRawBufferPointer]) -> StoreError? {
        guard path.hasPrefix(root) else { return nil }
        return lock.withLock {
            if off { return StoreError(.io, "power is off") }
            unsynced[path, default: []].append(offset..<(offset + buffers.reduce(0) { $0 + $1.count }))
            return nil
        }
    }

    func beforeSync(path: String) -> StoreError? {
        guard path.hasPrefix(root) else { return nil }
        return lock.withLock {
            if off { return StoreError(.io, "power is off") }
            unsynced[path] = []
            return nil
        }
    }

    var isOff: Bool { lock.withLock { off } }

    /// Overwrites the writes a cut lost with garbage, as a real power cut may leave them.
    static func destroy(_ lost: [String: [Range<Int>]]) throws {
        for (file, ranges) in lost {
            guard let handle = FileHandle(forUpdatingAtPath: file) else { continue }
            for range in ranges {
                try handle.seek(toOffset: UInt64(range.lowerBound))
                try handle.write(contentsOf: Data(repeating: 0xEE, count: range.count))
            }
            try handle.close()
        }
    }

    func cut() -> [String: [Range<Int>]] {
        lock.withLock {
            off = true
            return unsynced
        }
    }
}

/// Tests that install a process-wide fault injector run one at a time.
@Suite(.serialized, .consistencyChecked) struct FaultTests {
    @Test func aPowerCutLosesNoAcknowledgedUpload() async throws {
        var total = 0
        for round in 0..<5 {
            let path = TemporaryDirectory("granary-powercut").path
            let acknowledged = try await uploadUntilThePowerGoes(path: path, round: round)
            total += acknowledged.count

            // The writers' last dispatch blocks may hold the old store a moment after they returned.
            for _ in 0..<50 where (try? DataDirectory(path: path, access: .exclusive)) == nil {
                try await Task.sleep(for: .milliseconds(100))
            }
            let reopened = try TestStore(path: path)
            #expect(try await reopened.store.verify().isEmpty)
            for (id, digest) in acknowledged {
                let stored = StreamingDigest(.sha256)
                try await reopened.store.read(id) { stored.update($0) }
                #expect(stored.finalize() == digest, "round \(round): acknowledged blob \(id) was lost")
            }
        }
        #expect(total >= 5, "too few uploads were acknowledged before the cuts to prove anything")
    }

    /// Four writers upload until a random moment when the power goes; then every write no sync
    /// covered is overwritten with garbage. Returns what was acknowledged; the store is closed.
    func uploadUntilThePowerGoes(path: String, round: Int) async throws -> [(SHA256Key, Digest)] {
        let t = try TestStore(path: path)
        let power = PowerCut(root: path)
        FaultInjection.current = power
        defer { FaultInjection.current = nil }
        let acknowledged = AckList()
        let writers = (0..<4).map { writer in
            Task {
                var n = 0
                while true {
                    n += 1
                    let data = randomBytes(Int.random(in: 0...(3 << 20)), seed: UInt64(round * 1000 + writer * 100 + n))
                    do {
                        let result = try await t.put(data, pieceSize: 256 << 10)
                        acknowledged.append(result.blob.id, StreamingDigest.hash(.sha256, data))
                    } catch {
                        return
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(Int.random(in: 300...900)))
        let lost = power.cut()
        for writer in writers { await writer.value }
        try PowerCut.destroy(lost)
        return acknowledged.values
    }

    /// The same power cut while GC compacts packs beside uploads and deletes: whatever GC had
    /// copied but not synced is destroyed, and no acknowledged, still held upload may suffer.
    @Test func aPowerCutDuringGCLosesNothing() async throws {
        var compactions = 0
        for round in 0..<5 {
            let path = TemporaryDirectory("granary-powercut-gc").path
            var settings = StoreSettings()
            settings.packSizeLimit = 2 << 20
            let t = try TestStore(settings: settings, path: path)
            let power = PowerCut(root: path)
            let held = AckList()
            // A first set to delete, so GC has work from the start.
            var doomed: [SHA256Key] = []
            for n in 0..<6 {
                let data = randomBytes(1 << 20, seed: UInt64(round * 1000 + 900 + n))
                let id = try await t.put(data).blob.id
                if n % 2 == 0 { doomed.append(id) } else { held.append(id, StreamingDigest.hash(.sha256, data)) }
            }
            FaultInjection.current = power
            let writer = Task {
                var n = 0
                while true {
                    n += 1
                    let data = randomBytes(Int.random(in: 0...(1 << 20)), seed: UInt64(round * 1000 + n))
                    guard let result = try? await t.put(data, pieceSize: 256 << 10) else { return }
                    if n % 3 == 0 {
                        guard (try? await t.store.release(result.blob.id)) != nil else { return }
                    } else {
                        held.append(result.blob.id, StreamingDigest.hash(.sha256, data))
                    }
                }
            }
            let compacted = Tally()
            let collector = Task {
                for id in doomed { _ = try? await t.store.release(id) }
                var options = GCOptions()
                options.grace = 0
                while !power.isOff {
                    t.store.sealOpenPacks()
                    guard let report = try? await t.store.collectGarbage(options) else { return }
                    compacted.add(report.packsCompacted)
                }
            }
            // The cut falls while GC is at work: after its first compaction (a loaded machine
            // may take seconds to get there), at a random point of what it does next.
            for _ in 0..<3000 where compacted.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
            let lost = power.cut()
            await writer.value
            await collector.value
            compactions += compacted.value
            FaultInjection.current = nil
            try PowerCut.destroy(lost)
            _ = consume t
            for _ in 0..<50 where (try? DataDirectory(path: path, access: .exclusive)) == nil {
                try await Task.sleep(for: .milliseconds(100))
            }
            let reopened = try TestStore(settings: settings, path: path)
            #expect(try await reopened.store.verify().isEmpty, "round \(round)")
            for (id, digest) in held.values {
                let stored = StreamingDigest(.sha256)
                try await reopened.store.read(id) { stored.update($0) }
                #expect(stored.finalize() == digest, "round \(round): acknowledged blob \(id) was lost")
            }
            // GC finishes what the cut interrupted.
            var options = GCOptions()
            options.grace = 0
            reopened.store.sealOpenPacks()
            #expect(try await reopened.store.collectGarbage(options).errors.isEmpty)
            #expect(try await reopened.store.verify().isEmpty)
        }
        #expect(compactions >= 5, "GC compacted too few packs before the cuts to prove anything")
    }

    @Test func injectedWriteErrorsFailTheUploadAndLeaveTheStoreIntact() async throws {
        let t = try TestStore()
        let kept = randomBytes(1 << 20, seed: 77)
        let keptID = try await t.put(kept).blob.id
        let power = PowerCut(root: t.path)
        FaultInjection.current = power
        _ = power.cut()
        await #expect(throws: StoreError.self) { _ = try await t.put(randomBytes(5 << 20, seed: 78)) }
        FaultInjection.current = nil
        #expect(try await t.read(keptID) == kept)
        #expect(try await t.store.verify().isEmpty)
        // Power is back: the store works.
        let again = try await t.put(randomBytes(2 << 20, seed: 79))
        #expect(try await t.read(again.blob.id).count == 2 << 20)
    }
}

/// A count shared by tasks.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.withLock { count += n } }
    var value: Int { lock.withLock { count } }
}

final class AckList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [(SHA256Key, Digest)] = []
    func append(_ id: SHA256Key, _ digest: Digest) { lock.withLock { storage.append((id, digest)) } }
    var values: [(SHA256Key, Digest)] { lock.withLock { storage } }
}
