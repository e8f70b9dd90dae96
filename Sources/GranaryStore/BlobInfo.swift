package import GranaryCodec

/// What the store knows of a committed blob.
package struct BlobInfo: Sendable, Equatable {
    package let id: SHA256Key
    package let size: Int
    package let digests: [DigestAlgorithm: Digest]
    package let chunks: Int
    /// How many records (images, artifacts, CLI puts) hold the blob.
    package let refcount: Int
}

/// The result of committing an upload.
package struct PutResult: Sendable {
    package let blob: BlobInfo
    /// Chunks this upload wrote (the rest were already stored, or all zeros).
    package let newChunks: Int
    /// Pack bytes this upload wrote, record headers included.
    package let bytesWritten: Int
    /// Wall time from the session's start (just before its first byte) to the durable commit.
    package let seconds: Double
}

/// Whole-store figures for `granary stats`.
package struct StoreStats: Sendable, Equatable {
    package var blobs = 0
    /// Sum of the sizes of stored blobs (each distinct blob once).
    package var logicalBytes = 0
    /// Bytes of all pack files on disk, live and dead, headers included.
    package var storedBytes = 0
    package var chunks = 0
    package var packs = 0
    /// Bytes of records no blob references any more (reclaimed by GC).
    package var deadBytes = 0

    /// Raw and stored bytes of the live chunks (record headers excluded): how well zstd does.
    package var liveRawBytes = 0
    package var liveStoredBytes = 0
    /// Each pack's size on disk and accounting, by id.
    package var packDetails: [PackStats] = []

    /// logical / stored (0 for an empty store).
    package var dedupRatio: Double { storedBytes == 0 ? 0 : Double(logicalBytes) / Double(storedBytes) }
    /// raw / stored bytes of live chunks (1 when nothing compressed; 0 for an empty store).
    package var compressionRatio: Double { liveStoredBytes == 0 ? 0 : Double(liveRawBytes) / Double(liveStoredBytes) }
}

/// One pack in ``StoreStats``.
package struct PackStats: Sendable, Equatable {
    package var id: UInt32
    package var name: String
    package var fileBytes: Int
    package var liveBytes: Int
    package var deadBytes: Int
    package var records: Int
    /// The object store holding the pack; nil: the local directory.
    package var store: String? = nil
}
