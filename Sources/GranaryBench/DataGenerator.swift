/// Deterministic, incompressible test data with a chosen share of repeats, generated at
/// several GB/s so that a benchmark measures the system under test, not its input.
///
/// The stream is cut into segments of 2–6 MiB. A unique segment continues a virtual random
/// stream (`word(i) = SplitMix64(seed, i)`); with probability `dupRatio` a segment instead
/// repeats bytes from earlier in the virtual stream, starting at a random byte offset (so the
/// repeat is shifted against any fixed block grid; content-defined chunking still finds it).
/// The same (seed, size, dupRatio) always gives the same bytes.
public struct DataGenerator: Sendable {
    public let seed: UInt64
    public let size: Int
    public let dupRatio: Double

    /// Bytes produced so far.
    public private(set) var position = 0
    /// Bytes that repeated earlier content.
    public private(set) var repeatedBytes = 0

    private var uniqueCursor = 0
    private var segmentRemaining = 0
    private var segmentSource = 0
    private var choices: SplitMix

    public init(seed: UInt64, size: Int, dupRatio: Double = 0) {
        precondition(size >= 0 && dupRatio >= 0 && dupRatio <= 1)
        self.seed = seed
        self.size = size
        self.dupRatio = dupRatio
        self.choices = SplitMix(state: seed ^ 0xD1B5_4A32_D192_ED03)
    }

    public var isFinished: Bool { position >= size }

    /// Fills as much of `buffer` as the stream has left; returns the count (0 at the end).
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < buffer.count && position < size {
            if segmentRemaining == 0 { startSegment() }
            let n = min(buffer.count - written, segmentRemaining, size - position)
            Self.virtualBytes(seed: seed, from: segmentSource, into: UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + n)]))
            if segmentSource != uniqueCursor {
                repeatedBytes += n
            } else {
                uniqueCursor += n
            }
            segmentSource += n
            segmentRemaining -= n
            position += n
            written += n
        }
        return written
    }

    private mutating func startSegment() {
        let length = (2 << 20) + Int(choices.next() % UInt64(4 << 20))
        segmentRemaining = length
        let roll = Double(choices.next() >> 11) / Double(1 << 53)
        if roll < dupRatio && uniqueCursor > length {
            segmentSource = Int(choices.next() % UInt64(uniqueCursor - length))
        } else {
            segmentSource = uniqueCursor
        }
    }

    /// Writes bytes `offset ..< offset + buffer.count` of the virtual stream.
    static func virtualBytes(seed: UInt64, from offset: Int, into buffer: UnsafeMutableRawBufferPointer) {
        var out = 0
        var byte = offset
        let n = buffer.count
        // Head: up to the next word boundary.
        while out < n && byte % 8 != 0 {
            buffer[out] = UInt8(truncatingIfNeeded: word(seed, byte / 8) >> (UInt64(byte % 8) * 8))
            out += 1
            byte += 1
        }
        // Whole words.
        var index = byte / 8
        while out + 8 <= n {
            buffer.storeBytes(of: word(seed, index).littleEndian, toByteOffset: out, as: UInt64.self)
            out += 8
            index += 1
        }
        byte = index * 8
        // Tail.
        while out < n {
            buffer[out] = UInt8(truncatingIfNeeded: word(seed, byte / 8) >> (UInt64(byte % 8) * 8))
            out += 1
            byte += 1
        }
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
public struct SplitMix: Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
