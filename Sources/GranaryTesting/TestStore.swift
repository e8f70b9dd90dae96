import Foundation
package import GranaryCodec
package import GranaryStore

/// A store in a test's temporary directory (checked and removed when the test ends).
package struct TestStore: Sendable {
    package let path: String
    package let store: BlobStore

    /// A new store, or the one at `path` reopened (recovery runs, as after a restart).
    package init(settings: StoreSettings = StoreSettings(), placement: PackPlacement = .local, path: String? = nil, check: Bool = true) throws {
        let directory = path.map { TemporaryDirectory(existing: $0, check: check) } ?? TemporaryDirectory("granary-store", check: check)
        self.path = directory.path
        // Reopened right after the test let go of the earlier store, whose last upload's lanes
        // may hold it (and so the directory's lock) a moment longer.
        var attempts = 0
        while true {
            do {
                store = try BlobStore(directory: DataDirectory(path: directory.path, access: .exclusive), settings: settings, placement: placement)
                return
            } catch let error as StoreError where error.code == .locked && path != nil && attempts < 100 {
                attempts += 1
                usleep(20_000)
            }
        }
    }

    /// Puts `data`, fed in pieces of `pieceSize` bytes.
    package func put(_ data: [UInt8], digests: [DigestAlgorithm] = [.sha256], pieceSize: Int = 100_000) async throws -> PutResult {
        let session = store.beginIngest(digests: digests)
        var offset = 0
        do {
            while offset < data.count {
                let end = min(data.count, offset + pieceSize)
                try await session.write(Array(data[offset..<end]))
                offset = end
            }
        } catch {
            // As a server does when an upload fails: let the lanes finish and cut the appends off.
            await session.abort()
            throw error
        }
        return try await store.commit(try await session.finish())
    }

    package func read(_ id: SHA256Key, range: Range<Int>? = nil) async throws -> [UInt8] {
        var out: [UInt8] = []
        try await store.read(id, range: range) { out.append(contentsOf: $0) }
        return out
    }

    package var packFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/packs")) ?? []).filter { $0.hasSuffix(".pack") }.sorted()
    }
}
