import Foundation
import GranaryCodec
import GranaryStore

/// A store in a fresh temporary directory, removed by `remove()`.
struct TestStore {
    let path: String
    let store: BlobStore

    init(settings: StoreSettings = StoreSettings(), path: String? = nil) throws {
        let path = path ?? NSTemporaryDirectory() + "granary-store-" + UUID().uuidString
        self.path = path
        store = try BlobStore(directory: DataDirectory(path: path, access: .exclusive), settings: settings)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Puts `data`, fed in pieces of `pieceSize` bytes.
    func put(_ data: [UInt8], digests: [DigestAlgorithm] = [.sha256], pieceSize: Int = 100_000) async throws -> PutResult {
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

    func read(_ id: SHA256Key, range: Range<Int>? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        try store.read(id, range: range) { out.append(contentsOf: $0) }
        return out
    }

    var packFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/packs")) ?? []).filter { $0.hasSuffix(".pack") }.sorted()
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes { buffer in
        var i = 0
        while i + 8 <= count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            buffer.storeBytes(of: z ^ (z >> 31), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            buffer[i] = UInt8(truncatingIfNeeded: i &* 31)
            i += 1
        }
    }
    return out
}
