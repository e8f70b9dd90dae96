import GranaryCodec
import GranaryLMDB

extension BlobStore {
    /// One chunk to read: where it is (nil for an all-zero chunk) and which of its bytes are wanted.
    private struct Piece {
        var key: SHA256Key
        var row: ChunkRow?
        var rawLength: Int
        /// The wanted bytes of the chunk's raw content.
        var wanted: Range<Int>
    }

    /// Streams blob `id`, or the byte `range` of it, to `sink` in pieces of up to a few MiB.
    ///
    /// Each record's header checksum and recorded SHA-256 are checked; with
    /// ``StoreSettings/verifyReads`` (the default) so is the CRC32C of its bytes: a damaged chunk
    /// is an error naming the chunk and its pack, never returned as data. Chunks that sit next to
    /// each other in a pack are read with one `pread`.
    ///
    /// #### Errors
    /// - ``StoreError/Code-swift.struct/notFound`` when there is no such blob.
    /// - ``StoreError/Code-swift.struct/invalidArgument`` when `range` is not inside the blob.
    /// - ``StoreError/Code-swift.struct/corrupt`` when stored bytes fail a check.
    public func read(_ id: SHA256Key, range: Range<Int>? = nil, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let pieces = try plan(id, range: range)
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.chunker.maxSize, alignment: 64)
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        let ioSize = 4 << 20
        let io = UnsafeMutableRawBufferPointer.allocate(byteCount: ioSize + settings.chunker.maxSize * 2, alignment: 64)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.chunker.maxSize, alignment: 64)
        let decompressor = ZstdDecompressor()
        defer {
            zeros.deallocate()
            io.deallocate()
            raw.deallocate()
        }

        var index = 0
        while index < pieces.count {
            guard let first = pieces[index].row else {
                let piece = pieces[index]
                try sink(UnsafeRawBufferPointer(rebasing: zeros[piece.wanted]))
                index += 1
                continue
            }
            // Coalesce the following records that sit right after this one in the same pack.
            var end = index + 1
            var span = first.recordSize
            while end < pieces.count, let next = pieces[end].row, next.packID == first.packID,
                next.offset == first.offset + span, span + next.recordSize <= io.count
            {
                span += next.recordSize
                end += 1
                if span >= ioSize { break }
            }
            let file = try packs.reader(for: first.packID)
            let buffer = UnsafeMutableRawBufferPointer(rebasing: io[0..<span])
            try file.read(into: buffer, at: first.offset)
            var position = 0
            for piece in pieces[index..<end] {
                // Safe because the loop above only grouped pieces with rows.
                let row = piece.row!
                let record = UnsafeRawBufferPointer(rebasing: buffer[position..<(position + row.recordSize)])
                try deliver(piece, row: row, record: record, raw: raw, decompressor: decompressor, sink: sink)
                position += row.recordSize
            }
            index = end
        }
    }

    private func deliver(
        _ piece: Piece,
        row: ChunkRow,
        record: UnsafeRawBufferPointer,
        raw: UnsafeMutableRawBufferPointer,
        decompressor: ZstdDecompressor,
        sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let location = "chunk \(piece.key) (\(PackFormat.fileName(row.packID)) offset \(row.offset))"
        let header = try RecordHeader.decode(record, location: location)
        guard header.sha256 == piece.key, header.storedLength == row.storedLength, header.rawLength == row.rawLength else {
            throw StoreError(.corrupt, "\(location): the record there is not this chunk")
        }
        let stored = UnsafeRawBufferPointer(rebasing: record[PackFormat.recordHeaderSize...])
        if settings.verifyReads && CRC32C.checksum(stored) != header.storedCRC {
            throw StoreError(.corrupt, "\(location) fails its checksum: the stored bytes are damaged")
        }
        switch header.codec {
        case .raw:
            try sink(UnsafeRawBufferPointer(rebasing: stored[piece.wanted]))
        case .zstd:
            let out = UnsafeMutableRawBufferPointer(rebasing: raw[0..<header.rawLength])
            let n: Int
            do {
                n = try decompressor.decompress(stored, into: out)
            } catch {
                throw StoreError(.corrupt, "\(location) does not decompress", cause: error)
            }
            guard n == header.rawLength else { throw StoreError(.corrupt, "\(location) decompressed to \(n) bytes, not \(header.rawLength)") }
            try sink(UnsafeRawBufferPointer(rebasing: raw[piece.wanted]))
        }
    }

    /// The chunks covering `range`, with their rows, from one read transaction.
    private func plan(_ id: SHA256Key, range: Range<Int>?) throws -> [Piece] {
        try environment.read { txn in
            guard let manifestBytes = try txn.value(keyspace.manifests, id.bytes) else {
                throw StoreError(.notFound, "no blob \(id)")
            }
            let manifest = try manifestBytes.withUnsafeBytes { try Manifest(encoded: $0) }
            let wanted = range ?? 0..<manifest.totalLength
            guard wanted.lowerBound >= 0, wanted.upperBound <= manifest.totalLength else {
                throw StoreError(.invalidArgument, "range \(wanted) is outside blob \(id) of \(manifest.totalLength) bytes")
            }
            var pieces: [Piece] = []
            var offset = 0
            for i in 0..<manifest.count {
                let length = manifest.length(at: i)
                defer { offset += length }
                let lower = max(wanted.lowerBound, offset)
                let upper = min(wanted.upperBound, offset + length)
                guard lower < upper else {
                    if offset >= wanted.upperBound { break }
                    continue
                }
                let key = manifest.key(at: i)
                var row: ChunkRow?
                if key != .zero {
                    row = try key.withBytes { k in try txn.withValue(keyspace.chunks, k) { try ChunkRow($0) } }
                    guard row != nil else { throw StoreError(.corrupt, "blob \(id) references chunk \(key), which has no row") }
                }
                pieces.append(Piece(key: key, row: row, rawLength: length, wanted: (lower - offset)..<(upper - offset)))
            }
            return pieces
        }
    }
}
