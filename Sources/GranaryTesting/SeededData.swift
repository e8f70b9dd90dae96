package import GranaryBench

/// The tests' one seeded generator (the benchmarks' SplitMix64), so a failing case replays.
package typealias SeededRandom = SplitMix

extension SplitMix {
    package init(seed: UInt64) { self.init(state: seed) }
}

/// `count` bytes of SplitMix64 output from `seed`: incompressible, and the same on every run.
package func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededRandom(seed: seed)
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes { buffer in
        var i = 0
        while i + 8 <= count {
            buffer.storeBytes(of: generator.next(), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            buffer[i] = UInt8(truncatingIfNeeded: i &* 31)
            i += 1
        }
    }
    return out
}
