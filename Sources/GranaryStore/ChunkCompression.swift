import GranaryCodec

/// The one compression rule for chunks, used on ingest (`inline`) and by compaction (`deferred`).
enum ChunkCompression {
    /// Compresses `raw` into `scratch` and returns the compressed length, or nil when it does not
    /// save at least 1/32: decompressing costs more than so little saves.
    static func attempt(_ raw: UnsafeRawBufferPointer, with compressor: ZstdCompressor, into scratch: UnsafeMutableRawBufferPointer) -> Int? {
        let room = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(scratch.count, raw.count - raw.count / 32)])
        return try? compressor.compress(raw, into: room)
    }
}
