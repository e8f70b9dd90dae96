import Foundation
import GranaryStore
import GranaryTesting
import Testing

/// A blob's records in the page cache: counted, read in ahead of a download and let go, on a
/// real data directory (packs written `O_DIRECT`, so nothing is cached after the upload).
@Suite(.consistencyChecked) struct PageCacheTests {
    /// Random bytes, then the first MiB again (a repeated chunk is one record) and 1 MiB of zeros (none).
    static func content() -> [UInt8] {
        let unique = randomBytes(6 << 20, seed: 21)
        return unique + unique[0..<(1 << 20)] + [UInt8](repeating: 0, count: 1 << 20)
    }

    /// Polls until `condition` holds or five seconds pass (the kernel reads in the background).
    static func eventually(_ condition: () throws -> Bool) throws -> Bool {
        for _ in 0..<500 {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return try condition()
    }

    @Test func warmedBlobsBecomeResidentAndEvictedOnesLeave() async throws {
        let t = try TestStore()
        let content = Self.content()
        let put = try await t.put(content)
        let id = put.blob.id
        let before = try t.store.residency(id)
        // Every record once: what the upload wrote, headers included.
        #expect(before.total == put.bytesWritten)
        try t.store.evict(id)
        #expect(try t.store.residency(id).cached ?? 0 < before.total)
        try t.store.warm(id)
        #expect((try t.store.residency(id).cached ?? 0) >= before.total)
        #expect(try await t.read(id) == content)
        try t.store.evict(id)
        #expect(try Self.eventually { (try t.store.residency(id).cached ?? 0) < before.total })
        #expect(throws: StoreError.self) { _ = try t.store.residency(SHA256Key.zero) }
    }
}
