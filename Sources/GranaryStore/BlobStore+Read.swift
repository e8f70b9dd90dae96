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
    private let pieces: [Piece]
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
        // Coalesce the following records that sit right after this one in the same pack.
        var end = index + 1
        var span = first.recordSize
        while end < pieces.count, let next = pieces[end].row, next.packID == first.packID,
            next.offset == first.offset + span, span + next.recordSize <= io.count, span < Self.ioSize
        {
            span += next.recordSize
            end += 1
        }
        let file = try store.packs.reader(for: first.packID)
        let buffer = UnsafeMutableRawBufferPointer(rebasing: io[0..<span])
        try file.read(into: buffer, at: first.offset)
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
