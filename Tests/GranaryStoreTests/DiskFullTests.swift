import Foundation
import GranaryCodec
import GranaryStore
import GranaryTesting
import Testing

/// A small ext4 file system on a loop device: a real disk that fills up.
/// Needs root (mount); skipped elsewhere.
struct SmallDisk {
    let image: String
    let mountPoint: String

    static var available: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/mkfs.ext4") }

    init(megabytes: Int) throws {
        let id = UUID().uuidString
        image = NSTemporaryDirectory() + "granary-disk-\(id).img"
        mountPoint = NSTemporaryDirectory() + "granary-disk-\(id)"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Self.run("/usr/bin/truncate", "-s", "\(megabytes)M", image)
        try Self.run("/usr/sbin/mkfs.ext4", "-q", "-m", "0", image)
        try Self.run("/usr/bin/mount", "-o", "loop", image, mountPoint)
    }

    func remove() {
        try? Self.run("/usr/bin/umount", mountPoint)
        try? FileManager.default.removeItem(atPath: mountPoint)
        try? FileManager.default.removeItem(atPath: image)
    }

    static func run(_ tool: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw StoreError(.io, "\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }
}

@Suite(.consistencyChecked) struct DiskFullTests {
    @Test(.enabled(if: SmallDisk.available, "needs root to mount a loop device"))
    func aFullDiskFailsUploadsCleanlyAndTheStoreRecovers() async throws {
        let disk = try SmallDisk(megabytes: 64)
        defer { disk.remove() }
        // A filler file stands for other data on the disk; deleting it later gives space back.
        let filler = disk.mountPoint + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: 16 << 20)))
        var settings = StoreSettings()
        settings.indexMapSize = 64 << 20
        let t = try TestStore(settings: settings, path: disk.mountPoint + "/data")
        var acknowledged: [(SHA256Key, [UInt8])] = []
        var failure: (any Error)?
        for n in 0..<40 {
            let data = randomBytes(3 << 20, seed: UInt64(500 + n))
            do {
                acknowledged.append((try await t.put(data).blob.id, data))
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure as? StoreError, "the disk never filled up: \(String(describing: failure))")
        #expect(error.code == .noSpace)
        #expect(error.description.contains("No space left on device"), "\(error)")
        #expect(!acknowledged.isEmpty)
        for (id, data) in acknowledged { #expect(try await t.read(id) == data) }
        #expect(try await t.store.verify().isEmpty)

        // Space returns: uploads work again and nothing acknowledged was lost.
        try FileManager.default.removeItem(atPath: filler)
        let after = randomBytes(3 << 20, seed: 999)
        let id = try await t.put(after).blob.id
        #expect(try await t.read(id) == after)
        for (id, data) in acknowledged { #expect(try await t.read(id) == data) }
        #expect(try await t.store.verify().isEmpty)
    }

    /// GC needs room for the records it copies; on a full disk it fails cleanly, changes
    /// nothing, and finishes once space returns.
    @Test(.enabled(if: SmallDisk.available, "needs root to mount a loop device"))
    func gcOnAFullDiskFailsCleanlyAndFinishesLater() async throws {
        let disk = try SmallDisk(megabytes: 64)
        defer { disk.remove() }
        var settings = StoreSettings()
        settings.indexMapSize = 32 << 20
        settings.packSizeLimit = 8 << 20
        let t = try TestStore(settings: settings, path: disk.mountPoint + "/data")
        var kept: [(SHA256Key, [UInt8])] = []
        var dropped: [SHA256Key] = []
        for n in 0..<8 {
            let data = randomBytes(3 << 20, seed: UInt64(700 + n))
            let id = try await t.put(data).blob.id
            if n % 2 == 0 { dropped.append(id) } else { kept.append((id, data)) }
        }
        for id in dropped { try await t.store.release(id) }
        t.store.sealOpenPacks()
        // Fill what is left of the disk.
        let filler = disk.mountPoint + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        let block = Data(count: 1 << 20)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()

        var options = GCOptions()
        options.grace = 0
        let before = try t.store.stats()
        await #expect(throws: StoreError.self) { _ = try await t.store.collectGarbage(options) }
        #expect(try t.store.stats().deadBytes == before.deadBytes)
        for (id, data) in kept { #expect(try await t.read(id) == data) }
        let problems = try await t.store.verify()
        #expect(problems.isEmpty, "\(problems)")

        try FileManager.default.removeItem(atPath: filler)
        let report = try await t.store.collectGarbage(options)
        #expect(report.packsCompacted > 0 && report.reclaimedBytes > 0)
        #expect(try t.store.stats().deadBytes == 0)
        for (id, data) in kept { #expect(try await t.read(id) == data) }
        #expect(try await t.store.verify(scrub: true).isEmpty)
    }
}
