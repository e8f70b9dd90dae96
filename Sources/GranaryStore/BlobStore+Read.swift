import Dispatch
import GranaryCodec
import GranaryLMDB
import GranaryObjectStore
import Synchronization

/// Reads one blob (or a byte range of it) in pieces, planning the chunk list once.
///
/// Each record's header checksum and recorded SHA-256 are checked; with
/// ``StoreSettings/verifyReads`` (the default) so is the CRC32C of its bytes: a damaged chunk is
/// an error naming the chunk and its pack, never returned as data. Chunks that sit next to each
/// other in a pack are read with one `pread` of up to 1 MiB, or 4 MiB read plus decompressed
/// when the group holds compressed records (4 MiB too with direct cold reads). Not thread-safe: one reader per stream.
package final class BlobReader {
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
    /// The packs of the plan that live in an object store, with their sizes.
    private var objectPacks: [UInt32: ObjectPackPlace]
    /// The cache file holding the bytes of an object pack that ``prepareNext()`` made local
    /// (kept for the pack's next groups while the cache keeps that file: its mapping is reused).
    private var prepared: (pack: UInt32, range: Range<Int>, file: FileDescriptor, generation: UInt64)?
    /// Pieces before this one have been asked of the node cache (read-ahead of object packs).
    private var fetchedThrough = 0
    private var index = 0
    /// Pieces before this one have been asked of the kernel by ``prefetch(after:delivered:rawLimit:)``.
    private var askedThrough = 0
    /// Bytes asked of the kernel and not yet delivered.
    private var askedAhead = 0
    /// Bytes this reader will deliver in all.
    package let count: Int
    private let zeros: UnsafeMutableRawBufferPointer
    private let io: UnsafeMutableRawBufferPointer
    /// Block-aligned room for `O_DIRECT` reads of cold groups (``ColdReadMode/direct``), from the first.
    private var directScratch: UnsafeMutableRawBufferPointer?
    /// One per core a group's compressed records are spread over.
    private let decompressors = [ZstdDecompressor(), ZstdDecompressor()]
    /// Bytes read (plus decompressed) per group: 1 MiB keeps a raw group in cache between the
    /// read, the check and the send; decompression, spread over two threads, wants more records,
    /// and so do direct cold reads (the disk reads 4 MiB, as two reads at once, far faster) and
    /// zero-copy readers (a cached group is sent from the page cache, so its size costs nothing
    /// in cache, and fewer groups mean fewer thread handoffs and `WILLNEED` calls per GB).
    private static let rawGroupSize = 1 << 20
    private static let ioSize = 4 << 20
    /// Bytes kept in flight ahead of the reader (``prefetch(after:delivered:rawLimit:)``).
    private static let readAhead = 8 << 20
    private func rawGroupLimit(zeroCopy: Bool) -> Int {
        store.settings.coldReads == .direct || zeroCopy ? Self.ioSize : Self.rawGroupSize
    }

    init(store: BlobStore, plan: ReadPlan) {
        self.store = store
        self.pieces = plan.pieces
        self.objectPacks = plan.objectPacks
        self.count = plan.pieces.reduce(0) { $0 + $1.wanted.count }
        let maxChunk = store.settings.chunker.maxSize
        zeros = .allocate(byteCount: maxChunk, alignment: 64)
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        io = .allocate(byteCount: Self.ioSize + maxChunk * 2, alignment: 64)
    }

    deinit {
        zeros.deallocate()
        io.deallocate()
        directScratch?.deallocate()
    }

    /// Whether everything has been delivered.
    package var isFinished: Bool { index >= pieces.count }

    /// Makes the next group local when its pack lives in an object store: its bytes are fetched
    /// into this node's cache (ranged GETs of whole extents) and the cache file is opened for
    /// ``readNextParts(zeroCopy:fill:emit:)``, which then checks and sends them as it does a local
    /// pack's. The next ``objectReadAhead`` bytes are asked of the cache meanwhile, so the GETs
    /// overlap the sending. Does nothing for local packs; call it before each group.
    package func prepareNext() async throws {
        guard index < pieces.count, let row = pieces[index].row, let place = objectPacks[row.packID] else { return }
        let wanted = row.offset..<min(place.size, row.offset + io.count)
        if let prepared, prepared.pack == row.packID, prepared.range.lowerBound <= wanted.lowerBound,
            prepared.range.upperBound >= wanted.upperBound
        {
            return
        }
        do {
            let reusable = prepared.flatMap { $0.pack == row.packID ? ($0.file, $0.generation) : nil }
            let (file, generation) = try await place.objects.open(row.packID, range: wanted, size: place.size, reusing: reusable)
            prepared = (row.packID, wanted, file, generation)
        } catch let error as ObjectStoreError where error.kind == .notFound {
            // GC retired the pack since the plan was made: its chunks live elsewhere now.
            try relocateRemainingPieces()
            return try await prepareNext()
        } catch let error as ObjectStoreError {
            throw StoreError(error, "reading pack \(place.objects.name(row.packID)) from store \(place.objects.id)")
        }
        readAheadObjects()
    }

    /// Bytes of object packs asked of the node cache ahead of the reader.
    static let objectReadAhead = 32 << 20

    /// Asks the node cache for the object-pack bytes of the pieces after the prepared group, up
    /// to ``objectReadAhead``, without waiting: the cache fetches them (shared with whoever else
    /// asks) while the reader sends what it has.
    private func readAheadObjects() {
        fetchedThrough = max(fetchedThrough, index)
        var spans: [UInt32: Range<Int>] = [:]
        var asked = 0
        while fetchedThrough < pieces.count, asked < Self.objectReadAhead {
            defer { fetchedThrough += 1 }
            guard let row = pieces[fetchedThrough].row, objectPacks[row.packID] != nil else { continue }
            let record = row.offset..<(row.offset + row.recordSize)
            if let prepared, prepared.pack == row.packID, prepared.range.upperBound >= record.upperBound { continue }
            let span = spans[row.packID].map { min($0.lowerBound, record.lowerBound)..<max($0.upperBound, record.upperBound) } ?? record
            spans[row.packID] = span
            asked += row.recordSize
        }
        for (pack, span) in spans {
            guard let place = objectPacks[pack] else { continue }
            place.objects.prefetch(pack, range: span, size: place.size)
        }
    }

    /// Delivers the next group of chunks (up to 1–4 MiB) to `sink`, in order.
    /// - Returns: false when there was nothing left.
    @discardableResult
    package func readNext(into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        try readNextParts(
            fill: { count, read in try read(UnsafeMutableRawBufferPointer(rebasing: io[0..<count])) },
            emit: { part in
                switch part {
                case .filled(let range): try sink(UnsafeRawBufferPointer(rebasing: io[range]))
                case .transient(let bytes): try sink(bytes)
                case .region: preconditionFailure("regions are only handed out with zeroCopy")
                }
            })
    }

    /// Delivers the next group of chunks as parts, in order, copying as little as possible:
    /// the group's records are read into the buffer `fill` provides (it calls its second
    /// argument with a buffer of the given size) and handed out as ranges of it. With
    /// `zeroCopy`, a group of raw chunks is handed out as pack file regions, for `sendfile`:
    /// unread with ``sendsUnverified``, else checked in the page cache through the pack's
    /// mapping when it is all cached there (a cold group, or one holding compressed chunks, is
    /// read; with ``ColdReadMode/direct`` a cold group is read with `O_DIRECT`, even unverified).
    /// - Returns: false when there was nothing left.
    @discardableResult
    package func readNextParts(
        zeroCopy: Bool = false,
        fill: (_ count: Int, _ read: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> Void,
        emit: (BlobPart) throws -> Void
    ) throws -> Bool {
        guard index < pieces.count else { return false }
        guard let first = pieces[index].row else {
            let piece = pieces[index]
            try emit(.transient(UnsafeRawBufferPointer(rebasing: zeros[piece.wanted])))
            index += 1
            return true
        }
        let rawLimit = rawGroupLimit(zeroCopy: zeroCopy)
        let (end, read, decompressed, layout) = group(from: index, first: first, rawLimit: rawLimit)
        guard let file = try packReader(first.packID) else {
            // GC compacted the pack since the plan was made: its chunks live elsewhere now.
            try relocateRemainingPieces()
            return try readNextParts(zeroCopy: zeroCopy, fill: fill, emit: emit)
        }
        let rawGroupToSend = zeroCopy && decompressed == 0
        // The page cache is asked once, and only where its answer decides something: a verified
        // send from it, or a direct read of what it lacks.
        let asksCache = (rawGroupToSend && !sendsUnverified) || store.settings.coldReads == .direct
        let cached = asksCache && file.isCached(at: first.offset, length: read)
        let direct = store.settings.coldReads == .direct && !cached
        if rawGroupToSend, try sendsUnverified ? !direct : (cached && checkMapped(file, from: first.offset, read, end: end, layout)) {
            if sendsUnverified {
                // The kernel reads these bytes only when the socket takes them; ask for the group
                // (unless the group before already did) and the next one now, in large reads.
                if askedThrough < end { file.willNeed(at: first.offset, length: read) }
                prefetch(after: end, delivered: read, rawLimit: rawLimit)
            }
            for piece in pieces[index..<end] {
                // Safe because `group` only takes pieces with rows.
                let start = piece.row!.offset + PackFormat.recordHeaderSize + piece.wanted.lowerBound
                try emit(.region(PackFileRegion(file: file, offset: start, length: piece.wanted.count)))
            }
        } else {
            prefetch(after: end, delivered: read, rawLimit: rawLimit)
            try fill(read + decompressed) { buffer in
                let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<read])
                if direct {
                    try file.readDirect(into: target, at: first.offset, scratch: scratchForDirectReads())
                } else {
                    try file.read(into: target, at: first.offset)
                }
                try checkGroup(pieces[index..<end], layout, records: UnsafeRawBufferPointer(rebasing: buffer[0..<read]), spill: buffer)
            }
            let parts = zip(pieces[index..<end], layout).map { piece, place in
                let start = place.spill ?? (place.position + PackFormat.recordHeaderSize)
                return (start + piece.wanted.lowerBound)..<(start + piece.wanted.upperBound)
            }
            for range in parts { try emit(.filled(range)) }
        }
        index = end
        return true
    }

    private func scratchForDirectReads() -> UnsafeMutableRawBufferPointer {
        if let directScratch { return directScratch }
        let block = PackAppender.blockSize
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: io.count + 2 * block, alignment: block)
        directScratch = scratch
        return scratch
    }

    /// Checks a group of raw records where they lie in the page cache, through the pack's
    /// mapping, so that they can then be sent from it with `sendfile` (no copy into user space).
    /// Only for a group all in the page cache (which also keeps a pack cut short by another
    /// process, a repair, from being touched past its end: its dropped pages are not cached).
    /// False when the pack cannot be mapped (the group is then read).
    private func checkMapped(_ file: FileDescriptor, from offset: Int, _ read: Int, end: Int, _ layout: [Place]) throws -> Bool {
        guard let mapped = file.mapped(through: offset + read) else { return false }
        let records = UnsafeRawBufferPointer(rebasing: mapped[offset..<(offset + read)])
        try checkGroup(pieces[index..<end], layout, records: records, spill: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        return true
    }

    /// Checks (and decompresses) a group's `records`; decompressed bytes go to `spill` at each
    /// place's spill offset. Spreads the records over two threads when several are compressed:
    /// zstd decompression is the slowest pass of a read.
    private func checkGroup(
        _ group: ArraySlice<Piece>, _ layout: [Place], records: UnsafeRawBufferPointer, spill: UnsafeMutableRawBufferPointer
    ) throws {
        let items = Array(zip(group, layout))
        func checkItem(_ item: (Piece, Place), with decompressor: ZstdDecompressor) throws {
            let (piece, place) = item
            let row = piece.row!
            let record = UnsafeRawBufferPointer(rebasing: records[place.position..<(place.position + row.recordSize)])
            let out = UnsafeMutableRawBufferPointer(rebasing: spill[(place.spill ?? spill.count)...])
            try check(piece, row: row, record: record, decompressInto: out, with: decompressor)
        }
        guard items.count(where: { $0.1.spill != nil }) >= 2 else {
            for item in items { try checkItem(item, with: decompressors[0]) }
            return
        }
        let lanes = decompressors.count
        let work = LaneWork { lane in
            for i in stride(from: lane, to: items.count, by: lanes) { try checkItem(items[i], with: self.decompressors[lane]) }
        }
        let failures = Mutex<[any Error]>([])
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            do { try work.run(lane) } catch { failures.withLock { $0.append(error) } }
        }
        if let failure = failures.withLock({ $0.first }) { throw failure }
    }

    /// Whether this reader skips the CRC32C check of stored bytes (``StoreSettings/verifyReads``
    /// off), which is what allows handing raw chunks out unread as file regions.
    package var sendsUnverified: Bool { !store.settings.verifyReads }

    /// Keeps the kernel reading up to ``readAhead`` bytes past the group being delivered (for
    /// packs not in the page cache: written with `O_DIRECT`, or evicted). One group ahead is not
    /// enough: each `pread` then waits for the disk, which reads a 1 GiB blob at ~1 GB/s that way
    /// and at ~2.7 GB/s with 8 MiB in flight. Adjacent groups are asked in one call. Not with
    /// direct cold reads: it would fill the page cache they keep clear of.
    private func prefetch(after end: Int, delivered: Int, rawLimit: Int) {
        guard store.settings.coldReads == .cached else { return }
        if end <= askedThrough {
            askedAhead = max(0, askedAhead - delivered)
        } else {
            askedThrough = end
            askedAhead = 0
        }
        var pending: (file: FileDescriptor, pack: UInt32, offset: Int, length: Int)?
        func flush() {
            if let pending { pending.file.willNeed(at: pending.offset, length: pending.length) }
            pending = nil
        }
        while askedAhead < Self.readAhead, askedThrough < pieces.count {
            guard let next = pieces[askedThrough].row else {
                askedThrough += 1
                continue
            }
            guard let file = try? packReader(next.packID) else { break }
            let ahead = group(from: askedThrough, first: next, rawLimit: rawLimit)
            if let open = pending, open.pack == next.packID, open.offset + open.length == next.offset {
                pending?.length += ahead.read
            } else {
                flush()
                pending = (file, next.packID, next.offset, ahead.read)
            }
            askedAhead += ahead.read
            askedThrough = ahead.end
        }
        flush()
    }

    /// Where a record of a group sits in the read buffer, and where its bytes go when it is
    /// decompressed (after all the records read).
    typealias Place = (position: Int, spill: Int?)

    /// The pieces read with one `pread` from `start` (whose row is `first`): the records that
    /// sit right after each other in the same pack, up to `rawLimit` raw bytes (4 MiB with
    /// compressed records) read plus decompressed.
    private func group(from start: Int, first: ChunkRow, rawLimit: Int) -> (end: Int, read: Int, decompressed: Int, layout: [Place]) {
        var end = start
        var read = 0
        var spill = 0
        var layout: [Place] = []
        while end < pieces.count, let next = pieces[end].row {
            let extra = next.codec == .zstd ? next.rawLength : 0
            if end > start {
                guard next.packID == first.packID, next.offset == first.offset + read,
                    read + spill + next.recordSize + extra <= io.count,
                    read + spill < (spill + extra > 0 ? Self.ioSize : rawLimit)
                else { break }
            }
            layout.append((read, extra > 0 ? spill : nil))
            read += next.recordSize
            spill += extra
            end += 1
        }
        // Decompressed bytes go after everything read.
        return (end, read, spill, layout.map { ($0.position, $0.spill.map { $0 + read }) })
    }

    /// The read descriptor of pack `id`, or nil when the pack file is gone. An object pack's is
    /// its cache file, which ``prepareNext()`` opened.
    private func packReader(_ id: UInt32) throws(StoreError) -> FileDescriptor? {
        if objectPacks[id] != nil {
            guard let prepared, prepared.pack == id else {
                throw StoreError(.invalidArgument, "pack \(PackFormat.fileName(id)) is in an object store: prepareNext() comes before each group")
            }
            return prepared.file
        }
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
                guard let row = piece.row else {
                    throw StoreError(.notFound, "chunk \(piece.key) was reclaimed while the blob was being read (it was deleted meanwhile)")
                }
                if objectPacks[row.packID] == nil, let place = try store.objectPackPlace(row.packID, in: txn) { objectPacks[row.packID] = place }
                return piece
            }
        }
        guard moved.first?.row?.packID != pieces[index].row?.packID else {
            throw StoreError(.corrupt, "pack \(PackFormat.fileName(moved[0].row!.packID)) is missing, yet chunk \(moved[0].key) is recorded there")
        }
        pieces.replaceSubrange(index..., with: moved)
    }

    /// Checks a record read from its pack (header, identity and, with verification, the CRC32C
    /// of its bytes); a compressed record (as its row says) is decompressed into the start of `out`.
    private func check(
        _ piece: Piece,
        row: ChunkRow,
        record: UnsafeRawBufferPointer,
        decompressInto out: UnsafeMutableRawBufferPointer,
        with decompressor: ZstdDecompressor
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
        guard (header.codec == .zstd) == (row.codec == .zstd) else {
            throw StoreError(.corrupt, "\(location): the record's codec is not the one its row names")
        }
        switch header.codec {
        case .raw, .rawDeferred:
            return
        case .zstd:
            let target = UnsafeMutableRawBufferPointer(rebasing: out[0..<header.rawLength])
            let n: Int
            do {
                n = try decompressor.decompress(stored, into: target)
            } catch {
                throw StoreError(.corrupt, "\(location) does not decompress", cause: error)
            }
            guard n == header.rawLength else { throw StoreError(.corrupt, "\(location) decompressed to \(n) bytes, not \(header.rawLength)") }
        }
    }
}

/// The per-lane body of a group check run on two threads.
private struct LaneWork: @unchecked Sendable {
    // Safe because lane `i` touches only the records `i`, `i + lanes`, … of the group, their own
    // disjoint ranges of the buffer, and decompressor `i`; `concurrentPerform` returns only
    // when every lane is done, so nothing outlives the call.
    let run: (Int) throws -> Void
}

/// One part of a blob as ``BlobReader/readNextParts(zeroCopy:fill:emit:)`` hands it out.
package enum BlobPart {
    /// These bytes of the buffer the latest `fill` call provided.
    case filled(Range<Int>)
    /// Bytes valid only during the `emit` call (all-zero chunks).
    case transient(UnsafeRawBufferPointer)
    /// Bytes of a pack file, not read by the store (zero-copy sending).
    case region(PackFileRegion)
}

/// A byte range of an open pack file. The value keeps the file open, so the bytes stay
/// readable even when GC removes the pack meanwhile.
package struct PackFileRegion: Sendable {
    let file: FileDescriptor
    package let offset: Int
    package let length: Int

    /// The open descriptor; valid while this value lives.
    package var descriptor: Int32 { file.fd }
}

extension BlobStore {
    /// A reader for blob `id`, or the byte `range` of it.
    ///
    /// #### Errors
    /// - ``StoreError/Code-swift.struct/notFound`` when there is no such blob.
    /// - ``StoreError/Code-swift.struct/invalidArgument`` when `range` is not inside the blob.
    package func reader(_ id: SHA256Key, range: Range<Int>? = nil) throws -> BlobReader {
        BlobReader(store: self, plan: try plan(id, range: range))
    }

    /// Streams blob `id`, or the byte `range` of it, to `sink` in pieces of up to a few MiB
    /// (see ``BlobReader``).
    ///
    /// #### Errors
    /// As ``reader(_:range:)``, and ``StoreError/Code-swift.struct/corrupt`` when stored bytes fail a check.
    package func read(_ id: SHA256Key, range: Range<Int>? = nil, into sink: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let reader = try reader(id, range: range)
        repeat {
            try await reader.prepareNext()
        } while try reader.readNext(into: sink)
    }

    /// The chunks covering `range`, with their rows, and where their object packs are, from one
    /// read transaction.
    func plan(_ id: SHA256Key, range: Range<Int>?) throws -> ReadPlan {
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
            var objectPacks: [UInt32: ObjectPackPlace] = [:]
            var localPacks: Set<UInt32> = []
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
                    guard let packID = row?.packID else { throw StoreError(.corrupt, "blob \(id) references chunk \(key), which has no row") }
                    if objectPacks[packID] == nil, !localPacks.contains(packID) {
                        if let place = try objectPackPlace(packID, in: txn) { objectPacks[packID] = place } else { localPacks.insert(packID) }
                    }
                }
                pieces.append(BlobReader.Piece(key: key, row: row, rawLength: length, wanted: (lower - offset)..<(upper - offset)))
            }
            return ReadPlan(pieces: pieces, objectPacks: objectPacks)
        }
    }

    /// Where pack `id` lives when an object store holds it (nil for a local pack).
    ///
    /// #### Errors
    /// ``StoreError/Code-swift.struct/unavailable`` when its store is not configured on this node.
    func objectPackPlace(_ id: UInt32, in txn: borrowing Transaction<some TransactionAccess>) throws -> ObjectPackPlace? {
        let row = try Keyspace.packKey(id).withUnsafeBytes { k in try txn.withValue(keyspace.packs, k) { try PackRow($0) } }
        guard let row, let storeID = row.store else { return nil }
        guard let objects = objectPacks[storeID] else {
            throw StoreError(.unavailable, "pack \(PackFormat.fileName(id)) is in store \(storeID), which this node does not configure")
        }
        return ObjectPackPlace(objects: objects, size: row.committedLength)
    }
}

/// What a read needs: its pieces, and the object packs among their packs.
struct ReadPlan {
    var pieces: [BlobReader.Piece]
    var objectPacks: [UInt32: ObjectPackPlace]
}

/// An object pack as a read finds it: its store and its size.
struct ObjectPackPlace {
    let objects: ObjectPacks
    let size: Int
}

extension BlobStore {
    /// Closes cached descriptors of packs that a compaction (in any process) removed, so their
    /// disk space is freed; costs one lookup unless the pack generation changed.
    func dropGonePackReaders(in txn: borrowing Transaction<some TransactionAccess>) throws {
        let generation: UInt64 = try keyspace.metaInteger(Keyspace.generationKey, in: txn)
        try packs.dropReaders(generation: generation) { id in try txn.contains(keyspace.packs, Keyspace.packKey(id)) }
    }
}
