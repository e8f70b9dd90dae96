/// The store's figures as `granary stats --json` prints them; with `detail` (`--json --detail`
/// and `GET /admin/stats`) also the compression ratio, each pack's live and dead bytes and the
/// last GC run (null when there was none, so clients see every key).
package struct StatsReport: Encodable {
    struct Pack: Encodable {
        let pack: String
        let bytes: Int
        let liveBytes: Int
        let deadBytes: Int
        let records: Int
        /// The object store holding it; absent for a local pack.
        let store: String?
        enum CodingKeys: String, CodingKey {
            case pack, bytes, records, store
            case liveBytes = "live_bytes"
            case deadBytes = "dead_bytes"
        }
    }
    let stats: StoreStats
    let lastGC: GCReport?
    let detail: Bool

    package init(_ stats: StoreStats, lastGC: GCReport?, detail: Bool) {
        self.stats = stats
        self.lastGC = lastGC
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case blobs, chunks, packs
        case logicalBytes = "logical_bytes"
        case storedBytes = "stored_bytes"
        case deadBytes = "dead_bytes"
        case dedupRatio = "dedup_ratio"
        case compressionRatio = "compression_ratio"
        case packDetails = "pack_details"
        case lastGC = "last_gc"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stats.blobs, forKey: .blobs)
        try c.encode(stats.logicalBytes, forKey: .logicalBytes)
        try c.encode(stats.storedBytes, forKey: .storedBytes)
        try c.encode(stats.chunks, forKey: .chunks)
        try c.encode(stats.packs, forKey: .packs)
        try c.encode(stats.deadBytes, forKey: .deadBytes)
        try c.encode(Self.rounded(stats.dedupRatio), forKey: .dedupRatio)
        guard detail else { return }
        try c.encode(Self.rounded(stats.compressionRatio), forKey: .compressionRatio)
        let packs = stats.packDetails.map {
            Pack(pack: $0.name, bytes: $0.fileBytes, liveBytes: $0.liveBytes, deadBytes: $0.deadBytes, records: $0.records, store: $0.store)
        }
        try c.encode(packs, forKey: .packDetails)
        try c.encode(lastGC, forKey: .lastGC)
    }

    /// Ratios to three decimals.
    package static func rounded(_ ratio: Double) -> Double { (ratio * 1000).rounded() / 1000 }
}
