import GranaryCodec
import GranaryLMDB

/// Reads one blob (or a byte range of it) in pieces, planning the chunk list once.
///
/// Each record's header checksum and recorded SHA-256 are checked; with
/// ``StoreSettings/verifyReads`` (the default) so is the CRC32C of its bytes: a damaged chunk is
/// an error naming the chunk and its pack, never returned as data. Chunks that sit next to each
/// other in a pack are read with one `pread` of up to 4 MiB. Not thread-safe: one reader per stream.
public final class BlobReader {
    /// One chunk to read: where it is (nil for an all-zero chunk) and which of its bytes are wanted.
    struct Piece {
        var key: SHA256Key
        var row: ChunkRow?
        var rawLength: Int
        /// The wanted bytes of the chunk's raw content.
        var wanted: Range<Int>
    }

    let store: BlobStore
    private var pieces: [Piece]
    private var index = 0
    /// Bytes this reader will deliver in all.
    public let count: Int
    private let zeros: UnsafeMutableRawBufferPointer
    private let io: UnsafeMutableRawBufferPointer
    private let raw: UnsafeMutableRawBufferPointer
    private let decompressor = ZstdDecompressor()
    private static let ioSize = 4 << 20

    init(store: BlobStore, pieces: [Piece]) {
        self.store = store
        self.pieces = pieces
        self.count = pieces.reduce(0) { $0 + $1.wanted.count }
        let maxChunk = store.settings.chunker.maxSize
        zeros = .allocate(byteCount: maxChunk, alignment: 64)
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        io = .allocate(byteCount: Self.ioSize + maxChunk * 2, alignment: 64)
        raw = .allocate(byteCount: maxChunk, alignment: 64)
    }

    deinit {
        zeros.deallocate()
        io.deallocate()
        raw.deallocate()
    }

    /// Whether everything has been delivered.
    public var isFinished: Bool { index >= pieces.count }

    /// Delivers the next group of chunks (up to ~4 MiB) to `sink`, in order.
    /// - Returns: false when there was nothing left.
    @discardableResult
    public func readNext(into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard index < pieces.count else { return false }
        guard let first = pieces[index].row else {
            let piece = pieces[index]
            try sink(UnsafeRawBufferPointer(rebasing: zeros[piece.wanted]))
            index += 1
            return true
        }
        let (end, span) = group(from: index, first: first)
        guard let file = try packReader(first.packID) else {
            // GC compacted the pack since the plan was made: its chunks live elsewhere now.
            try relocateRemainingPieces()
            return try readNext(into: sink)
        }
        let buffer = UnsafeMutableRawBufferPointer(rebasing: io[0..<span])
        try file.read(into: buffer, at: first.offset)
        prefetch(after: end)
        var position = 0
        for piece in pieces[index..<end] {
            // Safe because the loop above only grouped pieces with rows.
            let row = piece.row!
            let record = UnsafeRawBufferPointer(rebasing: buffer[position..<(position + row.recordSize)])
            try deliver(piece, row: row, record: record, sink: sink)
            position += row.recordSize
        }
        index = end
        return true
    }

    /// Starts the kernel reading the next group's bytes while this group is delivered (packs are
    /// written around the page cache, so a blob read soon after its upload comes from the disk;
    /// without this the disk would idle while each group goes out to the client).
    private func prefetch(after end: Int) {
        guard end < pieces.count, let next = pieces[end].row, let file = try? packReader(next.packID) else { return }
        file.willNeed(at: next.offset, length: group(from: end, first: next).span)
    }

    /// The pieces read with one `pread` from `start` (whose row is `first`): the records that
    /// sit right after each other in the same pack, up to ~4 MiB.
    private func group(from start: Int, first: ChunkRow) -> (end: Int, span: Int) {
        var end = start + 1
        var span = first.recordSize
        while end < pieces.count, let next = pieces[end].row, next.packID == first.packID,
            next.offset == first.offset + span, span + next.recordSize <= io.count, span < Self.ioSize
        {
            span += next.recordSize
            end += 1
        }
        return (end, span)
    }

    /// The read descriptor of pack `id`, or nil when the pack file is gone.
    private func packReader(_ id: UInt32) throws(StoreError) -> FileDescriptor? {
        do throws(StoreError) {
            return try store.packs.reader(for: id)
        } catch  where error.code == .notFound {
            return nil
        }
    }

    /// Looks up the current location of every piece not yet delivered, in a fresh snapshot.
    private func relocateRemainingPieces() throws {
        let keyspace = store.keyspace
        let moved = try store.environment.read { txn in
            try pieces[index...].map { piece -> Piece in
                guard piece.row != nil else { return piece }
                var piece = piece
                piece.row = try piece.key.withBytes { k in try txn.withValue(keyspace.chunks, k) { try ChunkRow($0) } }
                guard piece.row != nil else {
                    throw StoreError(.notFound, "chunk \(piece.key) was reclaimed while the blob was being read (it was deleted meanwhile)")
                }
                return piece
            }
        }
        guard moved.first?.row?.packID != pieces[index].row?.packID else {
            throw StoreError(.corrupt, "pack \(PackFormat.fileName(moved[0].row!.packID)) is missing, yet chunk \(moved[0].key) is recorded there")
        }
        pieces.replaceSubrange(index..., with: moved)
    }

    private func deliver(
        _ piece: Piece,
        row: ChunkRow,
        record: UnsafeRawBufferPointer,
        sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let location = "chunk \(piece.key) (\(PackFormat.fileName(row.packID)) offset \(row.offset))"
        let header = try RecordHeader.decode(record, location: location)
        guard header.sha256 == piece.key, header.storedLength == row.storedLength, header.rawLength == row.rawLength else {
            throw StoreError(.corrupt, "\(location): the record there is not this chunk")
        }
        let stored = UnsafeRawBufferPointer(rebasing: record[PackFormat.recordHeaderSize...])
        if store.settings.verifyReads && CRC32C.checksum(stored) != header.storedCRC {
            throw StoreError(.corrupt, "\(location) fails its checksum: the stored bytes are damaged")
        }
        switch header.codec {
        case .raw, .rawDeferred:
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

}

extension BlobStore {
    /// A reader for blob `id`, or the byte `range` of it.
    ///
    /// #### Errors
    /// - ``StoreError/Code-swift.struct/notFound`` when there is no such blob.
    /// - ``StoreError/Code-swift.struct/invalidArgument`` when `range` is not inside the blob.
    public func reader(_ id: SHA256Key, range: Range<Int>? = nil) throws -> BlobReader {
        BlobReader(store: self, pieces: try plan(id, range: range))
    }

    /// Streams blob `id`, or the byte `range` of it, to `sink` in pieces of up to a few MiB
    /// (see ``BlobReader``).
    ///
    /// #### Errors
    /// As ``reader(_:range:)``, and ``StoreError/Code-swift.struct/corrupt`` when stored bytes fail a check.
    public func read(_ id: SHA256Key, range: Range<Int>? = nil, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let reader = try reader(id, range: range)
        while try reader.readNext(into: sink) {}
    }

    /// The chunks covering `range`, with their rows, from one read transaction.
    private func plan(_ id: SHA256Key, range: Range<Int>?) throws -> [BlobReader.Piece] {
        try environment.read { txn in
            try dropGonePackReaders(in: txn)
            guard let manifestBytes = try txn.value(keyspace.manifests, id.bytes) else {
                throw StoreError(.notFound, "no blob \(id)")
            }
            let manifest = try manifestBytes.withUnsafeBytes { try Manifest(encoded: $0) }
            let wanted = range ?? 0..<manifest.totalLength
            guard wanted.lowerBound >= 0, wanted.upperBound <= manifest.totalLength else {
                throw StoreError(.invalidArgument, "range \(wanted) is outside blob \(id) of \(manifest.totalLength) bytes")
            }
            var pieces: [BlobReader.Piece] = []
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
                pieces.append(BlobReader.Piece(key: key, row: row, rawLength: length, wanted: (lower - offset)..<(upper - offset)))
            }
            return pieces
        }
    }
}

extension BlobStore {
    /// Closes cached descriptors of packs that a compaction (in any process) removed, so their
    /// disk space is freed; costs one lookup unless the pack generation changed.
    func dropGonePackReaders(in txn: borrowing Transaction<some TransactionAccess>) throws {
        let generation: UInt64 = try keyspace.metaInteger(Keyspace.generationKey, in: txn)
        try packs.dropReaders(generation: generation) { id in try txn.contains(keyspace.packs, Keyspace.packKey(id)) }
    }
}
