import Foundation
import GranaryIndex
import GranaryParsing
import GranaryStore
import GranaryTesting
import Testing

@testable import GranaryCatalog

/// Glance's cache API over the page cache: who may use it, what may be queued, the listing as
/// images come in, hits, removal and clearing, on a real LMDB store.
@Suite(.consistencyChecked) struct ImageCacheTests {
    static let admin = Caller(projectID: "ops", userID: "a", roles: ["admin"])
    static let member = Caller(projectID: "ops", userID: "m", roles: ["member", "reader"])

    struct Fixture {
        let path = TemporaryDirectory("granary-cache").path
        let catalog: ImageCatalog

        init() throws { catalog = try makeTestCatalog(at: path) }

        func image(bytes: Int) async throws -> String {
            let body: [String: JSONValue] = ["name": .string("i"), "disk_format": .string("raw"), "container_format": .string("bare")]
            let id = try await catalog.create(body, caller: ImageCacheTests.admin).id
            guard bytes > 0 else { return id }
            let data = randomBytes(bytes, seed: UInt64(bytes))
            _ = try await catalog.upload(id, caller: ImageCacheTests.admin, declaredSize: data.count) { sink in
                try await ImportTests.Fixture.feed(data, sink)
            }
            return id
        }

        func listing() throws -> (cached: [String], queued: [String]) {
            let listing = try catalog.cacheListing(caller: ImageCacheTests.admin)
            return (listing.cached.map(\.imageID), listing.queued)
        }

        /// Polls until the image is listed as cached (the kernel reads in the background).
        func waitCached(_ id: String) throws -> Bool {
            for _ in 0..<500 {
                if try listing().cached.contains(id) { return true }
                Thread.sleep(forTimeInterval: 0.01)
            }
            return false
        }
    }

    static func code(_ code: CatalogError.Code) -> (any Error) -> Bool { { ($0 as? CatalogError)?.code == code } }

    @Test func onlyAdminsQueueActiveImagesTheyCanSee() async throws {
        let f = try Fixture()
        #expect(performing: { try f.catalog.cacheListing(caller: Self.member) }, throws: Self.code(.forbidden))
        let queued = try await f.image(bytes: 0)
        #expect(performing: { try f.catalog.queueForCache(queued, caller: Self.admin) }, throws: Self.code(.badRequest))
        #expect(performing: { try f.catalog.queueForCache(UUID().uuidString, caller: Self.admin) }, throws: Self.code(.notFound))
        let active = try await f.image(bytes: 1 << 20)
        #expect(performing: { try f.catalog.queueForCache(active, caller: Self.member) }, throws: Self.code(.forbidden))
        #expect(try f.listing().cached.isEmpty && f.listing().queued.isEmpty)
    }

    @Test func queuedImagesAreListedCachedWithTheirHitsUntilRemoved() async throws {
        let f = try Fixture()
        let first = try await f.image(bytes: 3 << 20)
        let second = try await f.image(bytes: 2 << 20)
        try f.catalog.queueForCache(first, caller: Self.admin)
        try f.catalog.queueForCache(second, caller: Self.admin)
        #expect(try f.waitCached(first) && f.waitCached(second))
        _ = try f.catalog.download(first, caller: Self.admin, range: nil)
        _ = try f.catalog.download(first, caller: Self.admin, range: 0..<10)  // the same request's ranged read
        let entry = try #require(try f.catalog.cacheListing(caller: Self.admin).cached.first { $0.imageID == first })
        #expect(entry.hits == 1 && entry.size == 3 << 20 && entry.lastAccessed >= entry.lastModified)
        try f.catalog.removeFromCache(first, caller: Self.admin)
        #expect(try f.listing().cached == [second])
        // Clearing the queue leaves cached images; clearing the cache removes them.
        try f.catalog.clearCache(.queue, caller: Self.admin)
        #expect(try f.listing().cached == [second])
        try f.catalog.clearCache(.cache, caller: Self.admin)
        #expect(try f.listing().cached.isEmpty && f.listing().queued.isEmpty)
        // A deleted image leaves the listing.
        try f.catalog.queueForCache(second, caller: Self.admin)
        try await f.catalog.delete(second, caller: Self.admin)
        #expect(try f.listing().cached.isEmpty && f.listing().queued.isEmpty)
    }
}
