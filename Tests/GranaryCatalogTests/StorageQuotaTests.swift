import Foundation
import GranaryCodec
import GranaryLMDB
import GranaryParsing
import GranaryStore
import GranaryTesting
import Testing

@testable import GranaryCatalog
@testable import GranaryIndex

/// `user_storage_quota`: what one owner's images may hold in all, on a real LMDB store.
@Suite(.consistencyChecked) struct StorageQuotaTests {
    @Test func uploadsPastTheQuotaAreRefusedAndLeaveNothing() async throws {
        var settings = ImagesSettings()
        settings.userStorageQuota = 1_000_000
        let fixture = try ImportTests.Fixture(settings: settings)
        let catalog = fixture.catalog
        let other = Caller(projectID: "p2", userID: "u2", roles: ["member", "reader"])
        func bytes(_ count: Int, _ seed: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* seed &+ $0 >> 5) } }
        func upload(_ id: String, _ data: [UInt8], declared: Bool = false, as caller: Caller? = nil) async -> CatalogError.Code? {
            do {
                _ = try await catalog.upload(id, caller: caller ?? fixture.owner, declaredSize: declared ? data.count : nil) { sink in
                    try await ImportTests.Fixture.feed(data, sink)
                }
                return nil
            } catch let error as CatalogError {
                return error.code
            } catch {
                return .badRequest
            }
        }

        let first = try await fixture.newImage()
        #expect(await upload(first, bytes(600_000, 7)) == nil)
        // 500,000 more: refused up front when declared, when the bytes cross the line otherwise.
        let second = try await fixture.newImage()
        #expect(await upload(second, bytes(500_000, 11), declared: true) == .payloadTooLarge)
        #expect(await upload(second, bytes(500_000, 11)) == .payloadTooLarge)
        #expect(try fixture.image(second).status == .queued)
        try await fixture.expectConsistent()
        // Exactly what is left fits; staged data counts too.
        #expect(await upload(second, bytes(400_000, 13)) == nil)
        let third = try await fixture.newImage()
        await #expect(throws: CatalogError.self) { try await fixture.stage(third, [1]) }
        // Another owner has a quota of its own; deleting an image gives its bytes back.
        let theirs = try await catalog.create(
            ["name": .string("t"), "disk_format": .string("raw"), "container_format": .string("bare")], caller: other
        ).id
        #expect(await upload(theirs, bytes(900_000, 17), as: other) == nil)
        try await catalog.delete(first, caller: fixture.owner)
        try await fixture.stage(third, bytes(600_000, 19))
        #expect(try fixture.image(third).status == .uploading)
        try await fixture.expectConsistent()
    }

    @Test func theOwnerByteCountsFollowEveryChange() async throws {
        let fixture = try ImportTests.Fixture()
        let catalog = fixture.catalog
        let other = Caller(projectID: "p2", userID: "u2", roles: ["member", "reader"])
        /// Every owner's count equals the sum over its images, before and after a rebuild.
        func expectCountsMatchAScan() throws {
            try catalog.store.environment.read { txn in
                var sums: [String?: Int] = [:]
                try catalog.index.walk(nil, descending: true, after: nil, in: txn) { image in
                    sums[image.owner, default: 0] += image.size ?? 0
                    return true
                }
                for owner in ["p1", "p2", "p3", nil] as [String?] {
                    #expect(try catalog.index.bytes(of: owner, in: txn) == sums[owner] ?? 0, "\(owner ?? "nil")")
                }
            }
        }
        var ids: [String] = []
        for (n, caller) in [fixture.owner, other, fixture.owner].enumerated() {
            let id = try await catalog.create(
                ["name": .string("u"), "disk_format": .string("raw"), "container_format": .string("bare")], caller: caller
            ).id
            let data = (0..<(100_000 * (n + 1))).map { UInt8(truncatingIfNeeded: $0 &* (n + 7)) }
            _ = try await catalog.upload(id, caller: caller, declaredSize: nil) { sink in try await ImportTests.Fixture.feed(data, sink) }
            ids.append(id)
        }
        let staged = try await fixture.newImage()
        try await fixture.stage(staged, Array(repeating: 9, count: 50_000))
        try expectCountsMatchAScan()
        try await catalog.delete(ids[0], caller: fixture.owner)
        try expectCountsMatchAScan()
        // An owner change (an admin's PATCH /owner) moves the bytes.
        let moved = ids[1]
        _ = try await catalog.store.coordinator.submit { txn in
            var image = try catalog.index.get(moved, in: txn)!
            let previous = image
            image.owner = "p3"
            try catalog.index.put(image, previous: previous, in: txn)
        }
        try expectCountsMatchAScan()
        _ = try await catalog.store.coordinator.submit { txn in try catalog.index.rebuildUsage(in: txn) }
        try expectCountsMatchAScan()
        let p3 = try catalog.store.environment.read { txn in try catalog.index.bytes(of: "p3", in: txn) }
        #expect(p3 == 200_000)
    }

    @Test func concurrentUploadsCannotTogetherPassTheQuota() async throws {
        var settings = ImagesSettings()
        settings.userStorageQuota = 1_000_000
        let fixture = try ImportTests.Fixture(settings: settings)
        let ids = [try await fixture.newImage(), try await fixture.newImage()]
        // Both start with the whole quota left; the second to commit finds the first's bytes.
        let results = await withTaskGroup(of: Bool.self) { group in
            for (n, id) in ids.enumerated() {
                group.addTask {
                    let data = (0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* (n + 3) &+ n) }
                    do {
                        _ = try await fixture.catalog.upload(id, caller: fixture.owner, declaredSize: nil) { sink in
                            try await ImportTests.Fixture.feed(data, sink)
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 2 && results.filter { $0 }.count == 1)
        #expect(try ids.map { try fixture.image($0).status.rawValue }.sorted() == ["active", "queued"])
        try await fixture.expectConsistent()
    }
}
