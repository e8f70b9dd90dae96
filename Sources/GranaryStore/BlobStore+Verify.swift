import GranaryCodec
import GranaryLMDB

/// A problem found by ``BlobStore/verify(scrub:)``.
public struct VerifyProblem: Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension BlobStore {
    /// Checks that every blob's chunks are present and readable and that stored refcounts match
    /// the manifests (the core of `granary fsck`). With `scrub`, every referenced chunk is read
    /// and re-hashed; without, record headers and CRC32C of stored bytes are checked.
    ///
    /// Runs in one read snapshot, so it is consistent while uploads go on.
    public func verify(scrub: Bool = false) throws -> [VerifyProblem] {
        var problems: [VerifyProblem] = []
        func problem(_ text: String) { problems.append(VerifyProblem(message: text)) }

        try environment.read { txn in
            // Mark: count manifest references per chunk.
            var references: [SHA256Key: Int] = [:]
            try txn.forEach(keyspace.blobs) { key, value in
                let id = SHA256Key(key)
                let row = try BlobRow(value)
                guard let manifest = try txn.withValue(keyspace.manifests, key, { try Manifest(encoded: $0) }) else {
                    problem("blob \(id) has no manifest")
                    return true
                }
                if manifest.totalLength != row.size { problem("blob \(id) is \(row.size) bytes but its manifest covers \(manifest.totalLength)") }
                if manifest.count != row.chunkCount { problem("blob \(id) lists \(row.chunkCount) chunks, its manifest \(manifest.count)") }
                if row.refcount <= 0 { problem("blob \(id) has refcount \(row.refcount)") }
                for i in 0..<manifest.count where manifest.key(at: i) != .zero { references[manifest.key(at: i), default: 0] += 1 }
                return true
            }

            var packRows: [UInt32: PackRow] = [:]
            try txn.forEach(keyspace.packs) { key, value in
                packRows[UInt32(bigEndian: key.loadUnaligned(as: UInt32.self))] = try PackRow(value)
                return true
            }
            for (id, row) in packRows {
                let size = (try? packs.reader(for: id).size()) ?? -1
                if size < 0 {
                    problem("pack \(PackFormat.fileName(id)) is missing")
                } else if size < row.committedLength {
                    problem("pack \(PackFormat.fileName(id)) is \(size) bytes, shorter than its committed \(row.committedLength)")
                }
            }

            // Sweep: compare stored refcounts, and check each live chunk's record.
            var seen = 0
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: PackFormat.recordHeaderSize + settings.chunker.maxSize + 64, alignment: 64)
            defer { buffer.deallocate() }
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.chunker.maxSize, alignment: 64)
            defer { raw.deallocate() }
            let decompressor = ZstdDecompressor()
            let sha = StreamingDigest(.sha256)
            try txn.forEach(keyspace.chunks) { key, value in
                let chunkKey = SHA256Key(key)
                let row = try ChunkRow(value)
                let expected = references[chunkKey] ?? 0
                if expected > 0 { seen += 1 }
                if row.refcount != expected {
                    problem("chunk \(chunkKey) has refcount \(row.refcount) but \(expected) manifest references")
                }
                guard expected > 0 else { return true }
                guard let pack = packRows[row.packID], row.offset + row.recordSize <= pack.committedLength else {
                    problem("chunk \(chunkKey) lies outside the committed part of \(PackFormat.fileName(row.packID))")
                    return true
                }
                let record = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<row.recordSize])
                do {
                    try packs.reader(for: row.packID).read(into: record, at: row.offset)
                    let header = try RecordHeader.decode(UnsafeRawBufferPointer(record), location: "chunk \(chunkKey)")
                    let stored = UnsafeRawBufferPointer(rebasing: record[PackFormat.recordHeaderSize...])
                    if header.sha256 != chunkKey { problem("the record of chunk \(chunkKey) names chunk \(header.sha256)") }
                    if CRC32C.checksum(stored) != header.storedCRC {
                        problem("chunk \(chunkKey) in \(PackFormat.fileName(row.packID)) fails its checksum")
                    }
                    if scrub {
                        var bytes = stored
                        if header.codec == .zstd {
                            let n = try decompressor.decompress(stored, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<header.rawLength]))
                            bytes = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                        }
                        if SHA256Key(hashing: [bytes], with: sha) != chunkKey { problem("chunk \(chunkKey) does not hash to its name") }
                    }
                } catch {
                    problem("chunk \(chunkKey) cannot be read: \(error)")
                }
                return true
            }
            if seen != references.count {
                for (key, _) in references where try !txn.contains(keyspace.chunks, key.bytes) {
                    problem("chunk \(key) is referenced but has no row")
                }
            }
        }
        return problems
    }
}
