import GranaryCodec
import GranaryLMDB

/// The storage engine's LMDB databases and the byte layout of every row (all integers little
/// endian unless a key must sort numerically, then big endian).
///
/// | database | key | value |
/// |---|---|---|
/// | `store.meta` | UTF-8 name | UTF-8 value: `format` = "1", `chunker` = parameters fingerprint |
/// | `store.chunks` | chunk SHA-256 (32 B) | ``ChunkRow`` (37 B) |
/// | `store.packs` | pack id u32 BE | ``PackRow`` (33 B; a pack in an object store adds its store id) |
/// | `store.blobs` | blob id (32 B) | ``BlobRow``: refcount, size, chunk count, digests |
/// | `store.manifests` | blob id (32 B) | the blob's ``Manifest`` (36 B per chunk) |
/// | `store.sessions` | pid u32 BE + counter u64 BE | ``SessionRow``: start (unix s), pid |
/// | `store.retired` | pack id u32 BE | ``RetiredPack``: when compaction retired it (unix s), its object store |
///
/// `store.meta` also holds `pack.high_water` (u32 LE, the highest pack id ever committed, so ids
/// are never reused), `store.instance` (16 hex digits, random at creation: the prefix of the
/// store's object names), `pack.generation` (u64 LE, bumped by every commit that removes a pack, so
/// other processes drop their descriptors of it) and `gc.last` (JSON of the last GC run).
///
/// Chunk refcounts count manifest entries of stored blobs; a blob's own refcount counts the
/// records (images, artifacts, CLI puts) that hold it, so storing an identical blob again costs
/// one increment. All-zero chunks have no row: their manifest entry carries ``SHA256Key/zero``.
struct Keyspace: Sendable {
    let meta: Database
    let chunks: Database
    let packs: Database
    let blobs: Database
    let manifests: Database
    let sessions: Database
    let retired: Database

    static let highWaterKey = Array("pack.high_water".utf8)
    static let generationKey = Array("pack.generation".utf8)
    static let lastGCKey = Array("gc.last".utf8)
    static let instanceKey = Array("store.instance".utf8)

    init(environment: Environment) throws {
        meta = try environment.openDatabase("store.meta")
        chunks = try environment.openDatabase("store.chunks")
        packs = try environment.openDatabase("store.packs")
        blobs = try environment.openDatabase("store.blobs")
        manifests = try environment.openDatabase("store.manifests")
        sessions = try environment.openDatabase("store.sessions")
        retired = try environment.openDatabase("store.retired")
    }

    /// A little-endian integer stored in `store.meta` under `key`, or 0.
    func metaInteger<T: FixedWidthInteger>(_ key: [UInt8], in txn: borrowing Transaction<some TransactionAccess>, as: T.Type = T.self) throws -> T {
        try key.withUnsafeBytes { k in
            try txn.withValue(meta, k) { v in v.count == MemoryLayout<T>.size ? v.littleEndian(at: 0, as: T.self) : 0 }
        } ?? 0
    }

    func setMetaInteger<T: FixedWidthInteger>(_ key: [UInt8], _ value: T, in txn: borrowing WriteTransaction) throws {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(value)
        try txn.put(meta, key, bytes)
    }

    static func packKey(_ id: UInt32) -> [UInt8] {
        var key: [UInt8] = []
        key.appendBigEndian(id)
        return key
    }
}

/// Where a chunk lives and how many manifest entries reference it.
struct ChunkRow: Equatable {
    static let size = 37
    var packID: UInt32
    /// Offset of the record header in the pack file.
    var offset: Int
    var storedLength: Int
    var rawLength: Int
    var codec: ChunkCodec
    var refcount: Int
    /// Unix time (seconds) when the refcount fell to zero; 0 while live.
    var deadSince: Int

    /// Bytes the record takes in its pack, header included.
    var recordSize: Int { PackFormat.recordHeaderSize + storedLength }

    func encoded() -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(Self.size)
        b.appendLittleEndian(packID)
        b.appendLittleEndian(UInt64(offset))
        b.appendLittleEndian(UInt32(storedLength))
        b.appendLittleEndian(UInt32(rawLength))
        b.append(codec.rawValue)
        b.appendLittleEndian(UInt64(refcount))
        b.appendLittleEndian(Int64(deadSince))
        return b
    }

    init(packID: UInt32, offset: Int, storedLength: Int, rawLength: Int, codec: ChunkCodec, refcount: Int, deadSince: Int) {
        self.packID = packID
        self.offset = offset
        self.storedLength = storedLength
        self.rawLength = rawLength
        self.codec = codec
        self.refcount = refcount
        self.deadSince = deadSince
    }

    init(_ b: UnsafeRawBufferPointer) throws(StoreError) {
        guard b.count == Self.size, let codec = ChunkCodec(rawValue: b[20]) else {
            throw StoreError(.corrupt, "chunk row of \(b.count) bytes does not parse")
        }
        packID = b.littleEndian(at: 0)
        offset = Int(b.littleEndian(at: 4, as: UInt64.self))
        storedLength = Int(b.littleEndian(at: 12, as: UInt32.self))
        rawLength = Int(b.littleEndian(at: 16, as: UInt32.self))
        self.codec = codec
        refcount = Int(b.littleEndian(at: 21, as: UInt64.self))
        deadSince = Int(b.littleEndian(at: 29, as: Int64.self))
    }
}

/// A pack's committed length (recovery truncates beyond it) and its live and dead bytes.
struct PackRow: Equatable {
    var committedLength: Int
    var liveBytes: Int
    var deadBytes: Int
    var records: Int
    var sealed: Bool
    /// The object store holding the pack (`stores.ID`), or nil for the local pack directory.
    /// Local rows stay 33 bytes, so directories written before object stores read unchanged.
    var store: String?

    func encoded() -> [UInt8] {
        var b: [UInt8] = []
        b.appendLittleEndian(UInt64(committedLength))
        b.appendLittleEndian(UInt64(liveBytes))
        b.appendLittleEndian(UInt64(deadBytes))
        b.appendLittleEndian(UInt64(records))
        b.append(sealed ? 1 : 0)
        if let store {
            b.append(UInt8(truncatingIfNeeded: store.utf8.count))
            b.append(contentsOf: store.utf8.prefix(255))
        }
        return b
    }

    init(committedLength: Int, liveBytes: Int = 0, deadBytes: Int = 0, records: Int = 0, sealed: Bool = false, store: String? = nil) {
        self.committedLength = committedLength
        self.liveBytes = liveBytes
        self.deadBytes = deadBytes
        self.records = records
        self.sealed = sealed
        self.store = store
    }

    init(_ b: UnsafeRawBufferPointer) throws(StoreError) {
        guard b.count == 33 || (b.count > 34 && b.count == 34 + Int(b[33])) else {
            throw StoreError(.corrupt, "pack row of \(b.count) bytes does not parse")
        }
        committedLength = Int(b.littleEndian(at: 0, as: UInt64.self))
        liveBytes = Int(b.littleEndian(at: 8, as: UInt64.self))
        deadBytes = Int(b.littleEndian(at: 16, as: UInt64.self))
        records = Int(b.littleEndian(at: 24, as: UInt64.self))
        sealed = b[32] != 0
        store = b.count > 33 ? String(decoding: b[34...], as: UTF8.self) : nil
    }
}

/// An object pack compaction retired: its object is deleted once `gc.retire_delay` has passed
/// (readers that planned against it meanwhile still find it, or re-resolve).
struct RetiredPack: Equatable {
    var retiredAt: Int
    var store: String

    func encoded() -> [UInt8] {
        var b: [UInt8] = []
        b.appendLittleEndian(UInt64(retiredAt))
        b.append(contentsOf: store.utf8)
        return b
    }

    init(retiredAt: Int, store: String) {
        self.retiredAt = retiredAt
        self.store = store
    }

    init(_ b: UnsafeRawBufferPointer) throws(StoreError) {
        guard b.count > 8 else { throw StoreError(.corrupt, "retired pack row of \(b.count) bytes does not parse") }
        retiredAt = Int(b.littleEndian(at: 0, as: UInt64.self))
        store = String(decoding: b[8...], as: UTF8.self)
    }
}

/// A stored blob's size, holders and whole-object digests.
struct BlobRow: Equatable {
    var refcount: Int
    var size: Int
    var chunkCount: Int
    var digests: [DigestAlgorithm: Digest]

    static let algorithmCodes: [DigestAlgorithm: UInt8] = [.md5: 1, .sha1: 2, .sha256: 3, .sha384: 4, .sha512: 5]

    func encoded() -> [UInt8] {
        var b: [UInt8] = []
        b.appendLittleEndian(UInt64(refcount))
        b.appendLittleEndian(UInt64(size))
        b.appendLittleEndian(UInt64(chunkCount))
        let sorted = digests.values.sorted { $0.algorithm.byteCount < $1.algorithm.byteCount }
        b.append(UInt8(sorted.count))
        for digest in sorted {
            b.append(Self.algorithmCodes[digest.algorithm] ?? 0)
            b.append(contentsOf: digest.bytes)
        }
        return b
    }

    init(refcount: Int, size: Int, chunkCount: Int, digests: [DigestAlgorithm: Digest]) {
        self.refcount = refcount
        self.size = size
        self.chunkCount = chunkCount
        self.digests = digests
    }

    init(_ b: UnsafeRawBufferPointer) throws(StoreError) {
        guard b.count >= 25 else { throw StoreError(.corrupt, "blob row of \(b.count) bytes does not parse") }
        refcount = Int(b.littleEndian(at: 0, as: UInt64.self))
        size = Int(b.littleEndian(at: 8, as: UInt64.self))
        chunkCount = Int(b.littleEndian(at: 16, as: UInt64.self))
        var digests: [DigestAlgorithm: Digest] = [:]
        var offset = 25
        for _ in 0..<Int(b[24]) {
            guard offset < b.count,
                let algorithm = Self.algorithmCodes.first(where: { $0.value == b[offset] })?.key,
                offset + 1 + algorithm.byteCount <= b.count
            else { throw StoreError(.corrupt, "blob row digests do not parse") }
            digests[algorithm] = Digest(algorithm: algorithm, bytes: Array(b[(offset + 1)..<(offset + 1 + algorithm.byteCount)]))
            offset += 1 + algorithm.byteCount
        }
        self.digests = digests
    }
}

/// The ordered chunks of a blob: (SHA-256, raw length) per chunk.
///
/// The blob id is SHA-256 over this encoding, so identity comes from the chunking pass and
/// whole-blob dedup needs no second pass over the data.
struct Manifest: Equatable {
    static let entrySize = 36
    private(set) var bytes: [UInt8] = []
    private(set) var totalLength = 0

    init() {}

    init(encoded: UnsafeRawBufferPointer) throws(StoreError) {
        guard encoded.count % Self.entrySize == 0 else {
            throw StoreError(.corrupt, "manifest of \(encoded.count) bytes is not a whole number of entries")
        }
        bytes = Array(encoded)
        var total = 0
        for i in 0..<count { total += length(at: i) }
        totalLength = total
    }

    var count: Int { bytes.count / Self.entrySize }

    mutating func append(_ key: SHA256Key, length: Int) {
        key.withBytes { bytes.append(contentsOf: $0) }
        bytes.appendLittleEndian(UInt32(length))
        totalLength += length
    }

    func key(at index: Int) -> SHA256Key {
        bytes.withUnsafeBytes { SHA256Key(UnsafeRawBufferPointer(rebasing: $0[(index * Self.entrySize)..<(index * Self.entrySize + 32)])) }
    }

    func length(at index: Int) -> Int {
        bytes.withUnsafeBytes { Int($0.littleEndian(at: index * Self.entrySize + 32, as: UInt32.self)) }
    }

    /// The blob id: SHA-256 over a domain tag and the entries.
    var blobID: SHA256Key {
        let digest = StreamingDigest(.sha256)
        return Array("granary-manifest-v1\n".utf8).withUnsafeBytes { tag in
            bytes.withUnsafeBytes { body in SHA256Key(hashing: [tag, body], with: digest) }
        }
    }
}
