import Foundation
import GranaryCodec
import GranaryLMDB
import GranaryParsing
import GranaryStore
import GranaryTesting
import Testing

@testable import GranaryCatalog
@testable import GranaryIndex

/// Interoperable import (stage, then glance-direct import), stale stages and the recovery of
/// images a crash left mid-work, on a real LMDB store.
@Suite(.consistencyChecked) struct ImportTests {
    struct Fixture {
        let path = TemporaryDirectory("granary-import").path
        let catalog: ImageCatalog
        let owner = Caller(projectID: "p1", userID: "u1", roles: ["member", "reader"])

        init(settings: ImagesSettings = ImagesSettings()) throws { catalog = try makeTestCatalog(at: path, settings: settings) }

        func newImage() async throws -> String {
            let body: [String: JSONValue] = ["name": .string("i"), "disk_format": .string("raw"), "container_format": .string("bare")]
            return try await catalog.create(body, caller: owner).id
        }

        func stage(_ id: String, _ data: [UInt8]) async throws {
            try await catalog.stage(id, caller: owner, declaredSize: data.count) { sink in try await Self.feed(data, sink) }
        }

        static func feed(_ data: [UInt8], _ sink: UploadSink) async throws {
            var offset = 0
            while offset < data.count {
                try await sink.fill { space in
                    let n = min(space.count, data.count - offset, 70_000)
                    data.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
                    offset += n
                    return n
                }
            }
        }

        func image(_ id: String) throws -> ImageRecord { try catalog.show(id, caller: owner) }

        func refcount(_ blob: String?) throws -> Int {
            guard let key = blob.flatMap(SHA256Key.init(hex:)) else { return 0 }
            return try catalog.store.info(key)?.refcount ?? 0
        }

        /// Every blob's refcount equals the images holding it, and the store checks clean.
        func expectConsistent() async throws {
            let holders = try catalog.dataHolders().holders
            for (blob, images) in holders { #expect(try catalog.store.info(blob)?.refcount == images.count) }
            #expect(try catalog.store.stats().blobs == holders.count)
            #expect(try await catalog.store.verify().isEmpty)
        }
    }

    static let glanceDirect: [String: JSONValue] = ["method": .object(["name": .string("glance-direct")])]

    @Test func stageThenImportMakesTheStagedDataTheImage() async throws {
        let fixture = try Fixture()
        let data = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let id = try await fixture.newImage()
        try await fixture.stage(id, data)
        var image = try fixture.image(id)
        #expect(image.status == .uploading)
        #expect(image.size == data.count)
        #expect(image.blob == nil)
        #expect(try fixture.refcount(image.staged?.blob) == 1)
        try await fixture.expectConsistent()

        // A second stage or an upload while staged: 409, the stage is kept.
        await #expect(throws: CatalogError.self) { try await fixture.stage(id, data) }
        await #expect(throws: CatalogError.self) {
            try await fixture.catalog.upload(id, caller: fixture.owner, declaredSize: nil) { sink in try await Fixture.feed(data, sink) }
        }
        #expect(try fixture.image(id).status == .uploading)

        let task = try await fixture.catalog.importImage(id, ImportRequest(body: Self.glanceDirect, requestID: "req-1"), caller: fixture.owner)
        #expect(task.status == "success")
        #expect(task.requestID == "req-1")
        #expect(task.expiresAt != nil)
        image = try fixture.image(id)
        #expect(image.status == .active)
        #expect(image.staged == nil)
        #expect(image.properties["os_glance_import_task"] == nil)
        #expect(image.properties["os_glance_failed_import"] == "")
        #expect(image.checksum == StreamingDigest.hash(.md5, data).hex)
        #expect(image.osHashValue == StreamingDigest.hash(.sha512, data).hex)
        #expect(image.size == data.count)
        var readBack: [UInt8] = []
        try await fixture.catalog.store.read(SHA256Key(hex: image.blob!)!) { readBack.append(contentsOf: $0) }
        #expect(readBack == data)
        #expect(try fixture.refcount(image.blob) == 1)

        let tasks = try fixture.catalog.tasks(of: id, caller: fixture.owner)
        #expect(tasks.map(\.id) == [task.id])
        let input = try JSONDecoder().decode(JSONValue.self, from: Data(tasks[0].input.utf8))
        guard case .object(let fields) = input, case .object(let request)? = fields["import_req"], case .object(let method)? = request["method"]
        else {
            Issue.record("task input lacks import_req.method: \(tasks[0].input)")
            return
        }
        #expect(method["name"] == .string("glance-direct"))
        try await fixture.expectConsistent()

        // Another project sees neither the image nor its tasks.
        let other = Caller(projectID: "p2", userID: "u2", roles: ["member", "reader"])
        #expect(throws: CatalogError.notFound(image: id)) { try fixture.catalog.tasks(of: id, caller: other) }
    }

    @Test func importChecksItsPreconditions() async throws {
        let fixture = try Fixture()
        let id = try await fixture.newImage()
        func importing(_ body: [String: JSONValue]) async -> CatalogError.Code? {
            do {
                try await fixture.catalog.importImage(id, ImportRequest(body: body, requestID: nil), caller: fixture.owner)
                return nil
            } catch let error as CatalogError {
                return error.code
            } catch {
                return nil
            }
        }
        #expect(await importing(Self.glanceDirect) == .conflict)  // nothing staged
        #expect(await importing([:]) == .badRequest)
        #expect(await importing(["method": .object(["name": .string("web-download")])]) == .badRequest)  // no uri
        #expect(await importing(["method": .object(["name": .string("copy-image")])]) == .badRequest)  // not enabled
        #expect(await importing(["method": .object(["name": .string("glance-direct")]), "all_stores": .string("yes")]) == .badRequest)
        #expect(await importing(["method": .object(["name": .string("glance-direct")]), "all_stores_must_succeed": .bool(false)]) == .badRequest)
        try await fixture.stage(id, [1, 2, 3])
        let other = Caller(projectID: "p2", userID: "u2", roles: ["member", "reader"])
        await #expect(throws: CatalogError.notFound(image: id)) {
            try await fixture.catalog.importImage(id, ImportRequest(body: Self.glanceDirect, requestID: nil), caller: other)
        }
        #expect(try fixture.image(id).status == .uploading)
        #expect(await importing(Self.glanceDirect) == nil)
        #expect(await importing(Self.glanceDirect) == .conflict)  // already active
    }

    static func webDownload(_ uri: String = "https://images.example/disk.img") -> [String: JSONValue] {
        ["method": .object(["name": .string("web-download"), "uri": .string(uri)])]
    }

    @Test func webDownloadImportsTheFetchedBytesOrGoesBackToQueued() async throws {
        var settings = ImagesSettings()
        settings.imageSizeCap = 300_000
        let fixture = try Fixture(settings: settings)
        let catalog = fixture.catalog
        let data = (0..<250_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 7) }
        func start(_ id: String) async throws -> TaskRecord {
            try await catalog.importImage(id, ImportRequest(body: Self.webDownload(), requestID: "req-w"), caller: fixture.owner)
        }

        let id = try await fixture.newImage()
        let task = try await start(id)
        #expect(task.status == "processing")
        #expect(try fixture.image(id).status == .importing)
        #expect(try fixture.image(id).properties["os_glance_import_task"] == task.id)
        await #expect(throws: CatalogError.self) { try await start(id) }  // the lock is held
        let ended = await catalog.completeImport(task.id) { sink in try await Fixture.feed(data, sink) }
        #expect(ended?.status == "success")
        let image = try fixture.image(id)
        #expect(image.status == .active)
        #expect(image.properties["os_glance_import_task"] == nil)
        #expect(image.size == data.count && image.virtualSize == data.count)
        #expect(image.checksum == StreamingDigest.hash(.md5, data).hex)
        #expect(image.osHashValue == StreamingDigest.hash(.sha512, data).hex)
        var readBack: [UInt8] = []
        try await catalog.store.read(SHA256Key(hex: image.blob!)!) { readBack.append(contentsOf: $0) }
        #expect(readBack == data)
        #expect(try catalog.tasks(of: id, caller: fixture.owner).map(\.status) == ["success"])
        await #expect(throws: CatalogError.self) { try await start(id) }  // active now
        try await fixture.expectConsistent()

        // The remote stops midway, or sends more than image_size_cap: queued again with nothing
        // referenced, the lock dropped, the task failed with the reason; a new import may follow.
        struct Cut: Error, CustomStringConvertible { var description: String { "the remote stopped sending" } }
        let second = try await fixture.newImage()
        for (feed, reason) in [
            (
                { (sink: UploadSink) in
                    try await Fixture.feed(Array(data[0..<100_000]), sink)
                    throw Cut()
                }, "the remote stopped sending"
            ),
            ({ (sink: UploadSink) in try await Fixture.feed(data + data, sink) }, "image_size_cap"),
        ] {
            let failing = try await start(second)
            let failed = await catalog.completeImport(failing.id, feed: feed)
            #expect(failed?.status == "failure")
            #expect(failed?.message.contains(reason) == true, "\(failed?.message ?? "")")
            let requeued = try fixture.image(second)
            #expect(requeued.status == .queued && requeued.blob == nil && requeued.size == nil)
            #expect(requeued.properties["os_glance_import_task"] == nil)
            try await fixture.expectConsistent()
        }
        #expect(try catalog.tasks(of: second, caller: fixture.owner).map(\.status) == ["failure", "failure"])
        let retry = try await start(second)
        #expect(await catalog.completeImport(retry.id) { sink in try await Fixture.feed(data, sink) }?.status == "success")
        #expect(try fixture.image(second).blob == image.blob)  // the same bytes: one blob, two holders

        // The image deleted while its bytes arrive: nothing stays referenced (its tasks went with it).
        let third = try await fixture.newImage()
        let doomed = try await start(third)
        let lost = await catalog.completeImport(doomed.id) { sink in
            try await Fixture.feed(Array(data.reversed()), sink)
            try await catalog.delete(third, caller: fixture.owner)
        }
        #expect(lost == nil)
        try await fixture.expectConsistent()
    }

    @Test func glanceDownloadAdoptsTheSourceFormatsAndGlancesPropertiesWithTheData() async throws {
        var settings = ImagesSettings()
        settings.importMethods.append(.glanceDownload)
        let fixture = try Fixture(settings: settings)
        let catalog = fixture.catalog
        func method(_ fields: [String: String]) -> [String: JSONValue] {
            ["method": .object(fields.mapValues(JSONValue.string).merging(["name": .string("glance-download")]) { a, _ in a })]
        }
        let source = "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c"
        let id = try await catalog.create(
            ["name": .string("dst"), "disk_format": .string("iso"), "container_format": .string("ovf"), "os_distro": .string("windows")],
            caller: fixture.owner
        ).id
        for bad in [["glance_image_id": "foo", "glance_region": "R"], ["glance_image_id": source], ["glance_region": "R"]] {
            await #expect(throws: CatalogError.self, "\(bad)") {
                try await catalog.importImage(id, ImportRequest(body: method(bad), requestID: nil), caller: fixture.owner)
            }
        }
        #expect(
            try ImageCatalog.glanceDownloadSource(method(["glance_image_id": source.uppercased(), "glance_region": "R"])) == (source, "R", "public"))
        let task = try await catalog.importImage(
            id, ImportRequest(body: method(["glance_image_id": source, "glance_region": "R"]), requestID: nil), caller: fixture.owner)
        #expect(task.status == "processing")
        let sourceImage: [String: JSONValue] = [
            "disk_format": .string("qcow2"), "container_format": .string("bare"), "hw_cpu_cores": .string("5"),
            "trait:STORAGE_DISK_SSD": .string("required"), "os_distro": .string("rhel"), "speed": .string("88mph"), "size": .number(9),
        ]
        // The adopted formats are what the data is checked against: random bytes are no qcow2.
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 5 &+ $0 >> 4) }
        let refused = await catalog.completeImport(task.id, adopting: .init(sourceImage: sourceImage)) { sink in try await Fixture.feed(data, sink) }
        #expect(refused?.status == "failure")
        #expect(try fixture.image(id).diskFormat == "iso" && fixture.image(id).properties["os_distro"] == "windows")
        var raw = sourceImage
        raw["disk_format"] = .string("raw")
        let again = try await catalog.importImage(
            id, ImportRequest(body: method(["glance_image_id": source, "glance_region": "R"]), requestID: nil), caller: fixture.owner)
        let ended = await catalog.completeImport(again.id, adopting: .init(sourceImage: raw)) { sink in try await Fixture.feed(data, sink) }
        #expect(ended?.status == "success")
        let image = try fixture.image(id)
        #expect(image.status == .active && image.diskFormat == "raw" && image.containerFormat == "bare")
        #expect(image.properties["hw_cpu_cores"] == "5" && image.properties["trait:STORAGE_DISK_SSD"] == "required")
        #expect(image.properties["os_distro"] == "rhel" && image.properties["speed"] == nil)
        #expect(image.virtualSize == data.count && image.osHashValue == StreamingDigest.hash(.sha512, data).hex)
        try await fixture.expectConsistent()
    }

    @Test func aFailedStageLeavesTheImageQueuedWithNothingReferenced() async throws {
        var settings = ImagesSettings()
        settings.imageSizeCap = 100_000
        let fixture = try Fixture(settings: settings)
        let id = try await fixture.newImage()
        await #expect(throws: CatalogError.self) { try await fixture.stage(id, [UInt8](repeating: 9, count: 300_000)) }
        let image = try fixture.image(id)
        #expect(image.status == .queued)
        #expect(image.staged == nil)
        #expect(try fixture.catalog.store.stats().blobs == 0)
        // The declared size must match too.
        await #expect(throws: CatalogError.self) {
            try await fixture.catalog.stage(id, caller: fixture.owner, declaredSize: 10) { sink in try await Fixture.feed([1, 2, 3], sink) }
        }
        #expect(try fixture.image(id).status == .queued)
        try await fixture.stage(id, [1, 2, 3])
        #expect(try fixture.image(id).status == .uploading)
    }

    @Test func staleStagesAreReleasedAndDeletingAStagedImageReleasesItsData() async throws {
        var settings = ImagesSettings()
        settings.stageTimeToLive = 3600
        let fixture = try Fixture(settings: settings)
        let old = try await fixture.newImage()
        let kept = try await fixture.newImage()
        let deleted = try await fixture.newImage()
        try await fixture.stage(old, [UInt8](repeating: 1, count: 200_000) + [2])
        try await fixture.stage(kept, [UInt8](repeating: 3, count: 200_000) + [4])
        try await fixture.stage(deleted, [UInt8](repeating: 5, count: 200_000) + [6])
        let oldBlob = try fixture.image(old).staged?.blob

        // Nothing is stale yet; an hour and a bit later the first stage is (back-date it).
        #expect(try await fixture.catalog.expireStages().isEmpty)
        _ = try await fixture.catalog.store.coordinator.submit { txn in
            var image = try fixture.catalog.index.get(old, in: txn)!
            let previous = image
            image.staged!.stagedAt -= 3601
            try fixture.catalog.index.put(image, previous: previous, in: txn)
        }
        #expect(try await fixture.catalog.expireStages() == [old])
        let expired = try fixture.image(old)
        #expect(expired.status == .queued)
        #expect(expired.staged == nil && expired.size == nil)
        #expect(try fixture.refcount(oldBlob) == 0)
        #expect(try fixture.image(kept).status == .uploading)

        let deletedBlob = try fixture.image(deleted).staged?.blob
        try await fixture.catalog.delete(deleted, caller: fixture.owner)
        #expect(try fixture.refcount(deletedBlob) == 0)
        try await fixture.expectConsistent()
        // The expired image can be staged again.
        try await fixture.stage(old, [7, 8, 9])
        #expect(try fixture.image(old).status == .uploading)
    }

    @Test func recoveryGivesInterruptedWorkItsDefinedState() async throws {
        let fixture = try Fixture()
        let catalog = fixture.catalog
        let saving = try await fixture.newImage()
        let uploading = try await fixture.newImage()
        let staged = try await fixture.newImage()
        let importing = try await fixture.newImage()
        let data = [UInt8](repeating: 42, count: 300_000) + [1, 2, 3]
        try await fixture.stage(staged, [9, 9, 9])
        try await fixture.stage(importing, data)
        // What a crash leaves: an upload and a stage that never committed, and an import
        // between its two transactions (status importing, the lock and a processing task).
        let taskID = UUID().uuidString.lowercased()
        _ = try await catalog.store.coordinator.submit { txn in
            for (id, status) in [(saving, ImageStatus.saving), (uploading, .uploading), (importing, .importing)] {
                var image = try catalog.index.get(id, in: txn)!
                let previous = image
                image.status = status
                if status == .importing { image.properties["os_glance_import_task"] = taskID }
                try catalog.index.put(image, previous: previous, in: txn)
            }
            var task = TaskRecord(
                id: taskID, type: "api_image_import", owner: "p1", imageID: importing, requestID: "req-x", userID: nil, input: "{}", now: 0)
            task.status = "processing"
            try catalog.tasks.put(task, in: txn)
        }
        let recovery = try await catalog.recoverInterruptedWork()
        #expect(Set(recovery.requeued) == [saving, uploading])
        #expect(recovery.imported == [importing])
        #expect(try fixture.image(saving).status == .queued)
        #expect(try fixture.image(uploading).status == .queued)
        #expect(try fixture.image(staged).status == .uploading)  // a committed stage is a defined state
        let imported = try fixture.image(importing)
        #expect(imported.status == .active)
        #expect(imported.osHashValue == StreamingDigest.hash(.sha512, data).hex)
        #expect(imported.properties["os_glance_import_task"] == nil)
        #expect(try catalog.tasks(of: importing, caller: fixture.owner).map(\.status) == ["success"])
        try await fixture.expectConsistent()
        #expect(try await catalog.recoverInterruptedWork() == ImageCatalog.Recovery())
    }
}
