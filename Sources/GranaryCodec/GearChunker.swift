/// Parameters of content-defined chunking. They are recorded in the store when it is created
/// and checked at every open: changing them would silently forfeit dedup against stored data.
package struct ChunkerParameters: Sendable, Equatable {
    package var minSize: Int
    package var averageSize: Int
    package var maxSize: Int

    /// 16 KiB / 64 KiB / 256 KiB (casync's defaults): keeps cross-version dedup of raw and qcow2
    /// images high (docs/architecture.md) at about 16k chunks per GB.
    package static let standard = ChunkerParameters(minSize: 16 << 10, averageSize: 64 << 10, maxSize: 256 << 10)

    package init(minSize: Int, averageSize: Int, maxSize: Int) {
        precondition(minSize > 0 && minSize < averageSize && averageSize < maxSize, "chunk sizes must satisfy min < avg < max")
        precondition(averageSize & (averageSize - 1) == 0, "the average chunk size must be a power of two")
        self.minSize = minSize
        self.averageSize = averageSize
        self.maxSize = maxSize
    }

    /// A stable text naming the algorithm and every parameter, stored in the index.
    package var fingerprint: String {
        "fastcdc-gear-nc1-v2:min=\(minSize),avg=\(averageSize),max=\(maxSize)"
    }
}

/// FastCDC (Xia et al. 2016): a Gear rolling hash with cut-point skipping below the minimum size
/// and normalized chunking level 1 (a harder mask before the average size, an easier one after).
///
/// The chunker is a value carrying its state across buffers, so a stream can be fed in slabs of
/// any size and finds the same boundaries as if it were one buffer. The inner loop works on a
/// typed pointer with wrapping arithmetic: no bounds checks, no allocation.
package struct GearChunker: Sendable {
    package let parameters: ChunkerParameters
    private let maskSmall: UInt64
    private let maskLarge: UInt64
    /// The masks shifted left by one, to test the hash after the first byte of a pair.
    private let maskSmallShifted: UInt64
    private let maskLargeShifted: UInt64
    /// The running Gear hash of the current chunk (only bytes past the minimum size feed it).
    private var hash: UInt64 = 0
    /// Bytes of the current chunk seen so far.
    package private(set) var pendingLength = 0

    package init(parameters: ChunkerParameters = .standard) {
        self.parameters = parameters
        let bits = parameters.averageSize.trailingZeroBitCount
        maskSmall = Self.mask(bits: bits + 1)
        maskLarge = Self.mask(bits: bits - 1)
        maskSmallShifted = maskSmall << 1
        maskLargeShifted = maskLarge << 1
    }

    /// Finds the next chunk end in `bytes[start...]`.
    ///
    /// - Returns: the offset just past the chunk's last byte, after which a new chunk starts; or
    ///   nil when the buffer ran out first (the state carries into the next call).
    @inline(__always)
    package mutating func nextBoundary(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let table = GearTable.values
        let doubled = GearTable.doubled
        let n = bytes.count
        var i = start

        // Cut-point skipping: nothing below the minimum size can be a boundary, so it is not hashed.
        if pendingLength < parameters.minSize {
            let skip = min(parameters.minSize - pendingLength, n - i)
            i += skip
            pendingLength += skip
            if pendingLength < parameters.minSize { return nil }
        }

        var h = hash
        // Before the average size: the harder mask (normalization pushes sizes toward the average).
        if pendingLength < parameters.averageSize {
            let loopStart = i
            let end = min(n, i + (parameters.averageSize - pendingLength))
            if let cut = Self.scan(p, &i, end, &h, table, doubled, maskSmall, maskSmallShifted) { return self.cut(at: cut) }
            pendingLength += i - loopStart
            if pendingLength < parameters.averageSize {
                hash = h
                return nil
            }
        }

        // After the average size: the easier mask, and a forced cut at the maximum.
        let loopStart = i
        let end = min(n, i + (parameters.maxSize - pendingLength))
        if let cut = Self.scan(p, &i, end, &h, table, doubled, maskLarge, maskLargeShifted) { return self.cut(at: cut) }
        pendingLength += i - loopStart
        if pendingLength >= parameters.maxSize { return cut(at: i) }
        hash = h
        return nil
    }

    /// Rolls the hash over `p[i..<end]`, two bytes per step (FastCDC 2020): with `doubled[b] =
    /// table[b] << 1`, `x = (h << 2) + doubled[b0]` is the hash after `b0` shifted left by one,
    /// so testing it against the shifted mask finds the same cuts with a shorter dependency chain.
    /// Returns the offset after the cut byte, or nil with `i == end`.
    @inline(__always)
    private static func scan(
        _ p: UnsafePointer<UInt8>,
        _ i: inout Int,
        _ end: Int,
        _ h: inout UInt64,
        _ table: UnsafePointer<UInt64>,
        _ doubled: UnsafePointer<UInt64>,
        _ mask: UInt64,
        _ maskShifted: UInt64
    ) -> Int? {
        var j = i
        var x = h
        while j &+ 1 < end {
            let y = (x &<< 2) &+ doubled[Int(p[j])]
            if y & maskShifted == 0 { return j &+ 1 }
            x = y &+ table[Int(p[j &+ 1])]
            j &+= 2
            if x & mask == 0 { return j }
        }
        if j < end {
            x = (x &<< 1) &+ table[Int(p[j])]
            j &+= 1
            if x & mask == 0 { return j }
        }
        i = j
        h = x
        return nil
    }

    @inline(__always)
    private mutating func cut(at offset: Int) -> Int {
        hash = 0
        pendingLength = 0
        return offset
    }

    /// Every chunk length of `bytes` taken as a whole stream (convenience for tests and tools).
    package static func chunkLengths(of bytes: UnsafeRawBufferPointer, parameters: ChunkerParameters = .standard) -> [Int] {
        var chunker = GearChunker(parameters: parameters)
        var lengths: [Int] = []
        var last = 0
        while let end = chunker.nextBoundary(in: bytes, from: last) {
            lengths.append(end - last)
            last = end
        }
        if last < bytes.count { lengths.append(bytes.count - last) }
        return lengths
    }

    /// A mask with `bits` one-bits spread evenly over bits 62…16: the high bits of a Gear hash
    /// depend on the most recent 48+ bytes, which makes boundaries depend on enough content.
    /// Bit 63 stays clear so the mask can be tested shifted left by one (see `scan`).
    static func mask(bits: Int) -> UInt64 {
        var mask: UInt64 = 0
        for k in 0..<bits {
            let position = 62 - (k * 46) / max(1, bits - 1)
            mask |= 1 << UInt64(position)
        }
        return mask
    }
}

/// The 256 Gear values: SplitMix64 from a fixed seed, fixed forever (part of the store format).
enum GearTable {
    // Safe because the table is written once, before first use, and only read afterwards.
    nonisolated(unsafe) static let values: UnsafePointer<UInt64> = {
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        var state: UInt64 = 0x4752_414E_4152_5931  // "GRANARY1"
        for i in 0..<256 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            table[i] = z ^ (z >> 31)
        }
        return UnsafePointer(table)
    }()

    /// `values[b] << 1`, for the two-bytes-per-step scan.
    // Safe because, like `values`, it is written once before first use and only read afterwards.
    nonisolated(unsafe) static let doubled: UnsafePointer<UInt64> = {
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        for i in 0..<256 { table[i] = values[i] << 1 }
        return UnsafePointer(table)
    }()
}
