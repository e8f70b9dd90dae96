/// Deterministic, incompressible test data with a chosen share of repeats, generated at
/// several GB/s so that a benchmark measures the system under test, not its input.
///
/// The stream is cut into segments of 2–6 MiB. A unique segment continues a virtual random
/// stream (``streamWord(_:_:)``); with probability `dupRatio` a segment instead
/// repeats bytes from earlier in the virtual stream, starting at a random byte offset (so the
/// repeat is shifted against any fixed block grid; content-defined chunking still finds it).
/// Given `earlier` streams (the images uploaded before this one, see ``ImageSeries``), a repeat
/// may copy their unique bytes instead, so dedup across objects can be measured.
/// The same (seed, size, dupRatio, earlier) always gives the same bytes.
package struct DataGenerator: Sendable {
    /// The unique bytes of an earlier stream: offsets `0 ..< uniqueLength` of seed's virtual stream.
    package struct Source: Sendable, Equatable {
        package let seed: UInt64
        package let uniqueLength: Int
        package init(seed: UInt64, uniqueLength: Int) {
            self.seed = seed
            self.uniqueLength = uniqueLength
        }
    }

    package let seed: UInt64
    package let size: Int
    package let dupRatio: Double
    /// Streams a repeat may copy from, besides this one's own earlier bytes.
    package let earlier: ArraySlice<Source>

    /// Bytes produced so far.
    package private(set) var position = 0
    /// Bytes that repeated earlier content (of this stream or of an earlier one).
    package private(set) var repeatedBytes = 0
    /// Of ``repeatedBytes``, those copied from an earlier stream.
    package private(set) var repeatedFromEarlier = 0

    private var uniqueCursor = 0
    private var segmentRemaining = 0
    private var segmentSeed: UInt64
    private var segmentSource = 0
    private var choices: SplitMix

    package init(seed: UInt64, size: Int, dupRatio: Double = 0, earlier: ArraySlice<Source> = []) {
        precondition(size >= 0 && dupRatio >= 0 && dupRatio <= 1)
        self.seed = seed
        self.size = size
        self.dupRatio = dupRatio
        self.earlier = earlier
        self.segmentSeed = seed
        self.choices = SplitMix(state: seed ^ 0xD1B5_4A32_D192_ED03)
    }

    package var isFinished: Bool { position >= size }

    /// This stream's own new bytes so far; at the end, what a later stream may repeat.
    package var uniqueLength: Int { uniqueCursor }

    /// Fills as much of `buffer` as the stream has left; returns the count (0 at the end).
    package mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < buffer.count && position < size {
            if segmentRemaining == 0 { startSegment() }
            let n = min(buffer.count - written, segmentRemaining, size - position)
            Self.virtualBytes(
                seed: segmentSeed, from: segmentSource, into: UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + n)]))
            advance(n)
            written += n
        }
        return written
    }

    /// Runs through the rest of the stream without producing bytes: the segment choices alone
    /// tell ``uniqueLength``, which a later stream needs to know what it may repeat.
    package mutating func skipToEnd() {
        while position < size {
            if segmentRemaining == 0 { startSegment() }
            advance(min(segmentRemaining, size - position))
        }
    }

    private mutating func advance(_ n: Int) {
        if segmentSeed != seed || segmentSource != uniqueCursor {
            repeatedBytes += n
            if segmentSeed != seed { repeatedFromEarlier += n }
        } else {
            uniqueCursor += n
        }
        segmentSource += n
        segmentRemaining -= n
        position += n
    }

    private mutating func startSegment() {
        let length = (2 << 20) + Int(choices.next() % UInt64(4 << 20))
        segmentRemaining = length
        segmentSeed = seed
        segmentSource = uniqueCursor
        let roll = Double(choices.next() >> 11) / Double(1 << 53)
        guard roll < dupRatio else { return }
        let ownEligible = uniqueCursor > length
        if earlier.isEmpty {
            if ownEligible { segmentSource = Int(choices.next() % UInt64(uniqueCursor - length)) }
            return
        }
        // A repeat copies `needed` bytes (the segment, cut at the end of the stream) from this
        // stream's past or from an earlier stream long enough, chosen uniformly.
        let needed = min(length, size - position)
        let candidates = earlier.filter { $0.uniqueLength >= needed }
        let count = candidates.count + (ownEligible ? 1 : 0)
        guard count > 0 else { return }
        let pick = Int(choices.next() % UInt64(count))
        if pick < candidates.count {
            let source = candidates[candidates.startIndex + pick]
            segmentSeed = source.seed
            segmentSource = Int(choices.next() % UInt64(source.uniqueLength - needed + 1))
        } else {
            segmentSource = Int(choices.next() % UInt64(uniqueCursor - length))
        }
    }

    /// Writes bytes `offset ..< offset + buffer.count` of the virtual stream.
    static func virtualBytes(seed: UInt64, from offset: Int, into buffer: UnsafeMutableRawBufferPointer) {
        var out = 0
        var byte = offset
        let n = buffer.count
        // Head: up to the next word boundary.
        while out < n && byte % 8 != 0 {
            buffer[out] = UInt8(truncatingIfNeeded: streamWord(seed, byte / 8) >> (UInt64(byte % 8) * 8))
            out += 1
            byte += 1
        }
        // Whole words.
        var index = byte / 8
        streamTable.withUnsafeBufferPointer { table in
            while out + 8 <= n {
                // One key per table-long block, then a load and an xor per word.
                let key = word(seed, index >> streamTableShift)
                let first = index & streamTableMask
                let run = min((n - out) / 8, table.count - first)
                // Pointers, not indices: no bounds or overflow checks in the loop (it vectorizes).
                let source = table.baseAddress! + first
                let target = buffer.baseAddress! + out
                for k in 0..<run {
                    target.storeBytes(of: (source[k] ^ key).littleEndian, toByteOffset: k &* 8, as: UInt64.self)
                }
                out += run * 8
                index += run
            }
        }
        byte = index * 8
        // Tail.
        while out < n {
            buffer[out] = UInt8(truncatingIfNeeded: streamWord(seed, byte / 8) >> (UInt64(byte % 8) * 8))
            out += 1
            byte += 1
        }
    }

    /// Word `index` of seed's virtual stream: a fixed random table XOR a key per table-long
    /// block. Producing a byte then costs a load and an xor; SplitMix64 for every word cost
    /// 0.15 ns/B, 5% of an ingest benchmark's CPU. The data stays incompressible and unique
    /// (two blocks differ by their keys in every word).
    static func streamWord(_ seed: UInt64, _ index: Int) -> UInt64 {
        streamTable[index & streamTableMask] ^ word(seed, index >> streamTableShift)
    }

    @inline(__always)
    static func word(_ seed: UInt64, _ index: Int) -> UInt64 {
        var z = seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// SplitMix64: small, fast, deterministic; for choosing segments and test workloads.
package struct SplitMix: RandomNumberGenerator, Sendable {
    package var state: UInt64
    package init(state: UInt64) { self.state = state }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// 256 KiB of SplitMix64 output, shared by every stream (see ``DataGenerator/streamWord(_:_:)``).
private let streamTableShift = 15
private let streamTableMask = (1 << streamTableShift) - 1
private let streamTable: [UInt64] = {
    var mix = SplitMix(state: 0x243F_6A88_85A3_08D3)
    return (0..<(1 << streamTableShift)).map { _ in mix.next() }
}()
