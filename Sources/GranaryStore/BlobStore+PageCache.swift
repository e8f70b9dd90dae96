/// A blob's stored bytes in the operating system's page cache: how much is there, reading it in
/// ahead of downloads, and letting it go. Packs written with `O_DIRECT` are not in the page
/// cache after an upload, so the first download reads the disk; warming a blob first makes
/// that download a page-cache read (what the images API's cache routes offer).
extension BlobStore {
    /// The pack ranges holding blob `id`'s records, each record once (all-zero chunks have none),
    /// adjacent records of one pack merged. Records in object packs are not in the page cache
    /// but in the node cache, and are left out.
    func packRanges(_ id: SHA256Key) throws -> [(packID: UInt32, range: Range<Int>)] {
        var records: [UInt32: [Int: Int]] = [:]  // pack → offset → record size
        let plan = try plan(id, range: nil)
        for piece in plan.pieces {
            guard let row = piece.row, plan.objectPacks[row.packID] == nil else { continue }
            records[row.packID, default: [:]][row.offset] = row.recordSize
        }
        var ranges: [(packID: UInt32, range: Range<Int>)] = []
        for (packID, sizes) in records.sorted(by: { $0.key < $1.key }) {
            for (offset, size) in sizes.sorted(by: { $0.key < $1.key }) {
                if let last = ranges.last, last.packID == packID, last.range.upperBound == offset {
                    ranges[ranges.count - 1].range = last.range.lowerBound..<(offset + size)
                } else {
                    ranges.append((packID, offset..<(offset + size)))
                }
            }
        }
        return ranges
    }

    /// Bytes of blob `id`'s records in the page cache, counted in whole pages (so `cached` ≥
    /// `total` once all are in), of `total` (nil cached: the kernel cannot tell, before Linux 6.5).
    ///
    /// #### Errors
    /// ``StoreError/Code-swift.struct/notFound`` when there is no such blob.
    package func residency(_ id: SHA256Key) throws -> (cached: Int?, total: Int) {
        var cached: Int? = 0
        var total = 0
        for (packID, range) in try packRanges(id) {
            total += range.count
            let bytes = try packs.reader(for: packID).cachedBytes(at: range.lowerBound, length: range.count)
            cached = bytes.flatMap { n in cached.map { $0 + n } }
        }
        return (cached, total)
    }

    /// Reads blob `id`'s records through the page cache, 4 MiB at a time, and returns when they
    /// are all in (a `WILLNEED` hint would return sooner, but pages count as cached from the
    /// moment their read starts, so a caller could not tell when the disk is done).
    package func warm(_ id: SHA256Key) throws {
        let step = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: step, alignment: 64)
        defer { buffer.deallocate() }
        for (packID, range) in try packRanges(id) {
            let file = try packs.reader(for: packID)
            for start in stride(from: range.lowerBound, to: range.upperBound, by: step) {
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(step, range.upperBound - start)]), at: start)
            }
        }
    }

    /// Lets the kernel drop blob `id`'s records from the page cache (shared chunks go too).
    package func evict(_ id: SHA256Key) throws {
        for (packID, range) in try packRanges(id) {
            try packs.reader(for: packID).dontNeed(at: range.lowerBound, length: range.count)
        }
    }
}
