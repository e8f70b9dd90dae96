public import GranaryCodec

/// What the store knows of a committed blob.
public struct BlobInfo: Sendable, Equatable {
    public let id: SHA256Key
    public let size: Int
    public let digests: [DigestAlgorithm: Digest]
    public let chunks: Int
    /// How many records (images, artifacts, CLI puts) hold the blob.
    public let refcount: Int
}

/// The result of committing an upload.
public struct PutResult: Sendable {
    public let blob: BlobInfo
    /// Chunks this upload wrote (the rest were already stored, or all zeros).
    public let newChunks: Int
    /// Pack bytes this upload wrote, record headers included.
    public let bytesWritten: Int
    /// Wall time from the session's start (just before its first byte) to the durable commit.
    public let seconds: Double
}

/// Whole-store figures for `granary stats`.
public struct StoreStats: Sendable, Equatable {
    public var blobs = 0
    /// Sum of the sizes of stored blobs (each distinct blob once).
    public var logicalBytes = 0
    /// Bytes of all pack files on disk, live and dead, headers included.
    public var storedBytes = 0
    public var chunks = 0
    public var packs = 0
    /// Bytes of records no blob references any more (reclaimed by GC).
    public var deadBytes = 0

    /// Raw and stored bytes of the live chunks (record headers excluded): how well zstd does.
    public var liveRawBytes = 0
    public var liveStoredBytes = 0
    /// Each pack's size on disk and accounting, by id.
    public var packDetails: [PackStats] = []

    /// logical / stored (0 for an empty store).
    public var dedupRatio: Double { storedBytes == 0 ? 0 : Double(logicalBytes) / Double(storedBytes) }
    /// raw / stored bytes of live chunks (1 when nothing compressed; 0 for an empty store).
    public var compressionRatio: Double { liveStoredBytes == 0 ? 0 : Double(liveRawBytes) / Double(liveStoredBytes) }
}

/// One pack in ``StoreStats``.
public struct PackStats: Sendable, Equatable {
    public var id: UInt32
    public var name: String
    public var fileBytes: Int
    public var liveBytes: Int
    public var deadBytes: Int
    public var records: Int
}
