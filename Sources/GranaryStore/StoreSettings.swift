package import GranaryCodec

/// When chunks are compressed.
package enum CompressionPolicy: String, Sendable, CaseIterable {
    /// zstd on ingest, per chunk, kept raw when it does not shrink.
    case inline
    /// Raw on ingest; the maintenance pass compresses later (keeps ingest at hashing speed).
    case deferred
    /// Never.
    case off
}

/// How pack appends reach the disk. Either way a commit is durable only after fdatasync.
package enum PackWriteMode: String, Sendable, CaseIterable {
    /// Through the page cache, with writeback started as each MiB is written
    /// (`sync_file_range`): new packs stay cached, so a blob read right after its upload
    /// comes from memory.
    case buffered
    /// `O_DIRECT`: no page-cache copy, and nothing cached.
    case direct
}

/// How a read reaches pack bytes that are not in the page cache (a cached range is always read
/// from memory).
package enum ColdReadMode: String, Sendable, CaseIterable {
    /// Through the page cache: the first read fills it, later reads come from memory.
    case cached
    /// `O_DIRECT`, nothing cached: where filling the page cache is dear (this project's guest
    /// spent 2.7 CPU-s per GiB on it), a first read is faster and far cheaper, and every
    /// later read of the range is a disk read again.
    case direct
}

/// Storage-engine settings.
package struct StoreSettings: Sendable {
    package var compression: CompressionPolicy = .inline
    package var zstdLevel: Int32 = 1
    package var packWrites = PackWriteMode.direct
    /// Check each chunk's CRC32C on read (a corrupt chunk is an error, never data).
    package var verifyReads = true
    package var coldReads = ColdReadMode.cached
    /// Packs roll over at about this size; compaction cost grows with pack size.
    package var packSizeLimit = 64 << 20
    /// Bytes per slab of an upload's pipeline, and slabs per upload (memory bound per upload).
    package var slabSize = 1 << 20
    package var slabsPerUpload = 8
    package var chunker = ChunkerParameters.standard
    /// LMDB map size (address space only).
    package var indexMapSize = 1 << 40
    /// Skip fsync of LMDB commits: tests and bulk loads only.
    package var durableIndex = true

    package init() {}
}
