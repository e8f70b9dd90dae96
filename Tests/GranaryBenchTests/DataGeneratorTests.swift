import GranaryBench
import Testing

@Suite struct DataGeneratorTests {
    func generate(_ generator: inout DataGenerator, pieces: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: pieces)
        while !generator.isFinished {
            let n = buffer.withUnsafeMutableBytes { generator.fill($0) }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    @Test func sameSeedSameBytesWhateverThePieceSize() {
        var a = DataGenerator(seed: 7, size: 9_000_001, dupRatio: 0.3)
        var b = DataGenerator(seed: 7, size: 9_000_001, dupRatio: 0.3)
        var c = DataGenerator(seed: 8, size: 9_000_001, dupRatio: 0.3)
        let x = generate(&a, pieces: 4093)
        let y = generate(&b, pieces: 1 << 20)
        let z = generate(&c, pieces: 1 << 20)
        #expect(x.count == 9_000_001)
        #expect(x == y)
        #expect(x != z)
    }

    @Test func dupRatioIsRoughlyWhatWasAsked() {
        for ratio in [0.0, 0.5, 0.9] {
            var generator = DataGenerator(seed: 3, size: 400 << 20, dupRatio: ratio)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 8)
            defer { buffer.deallocate() }
            while generator.fill(buffer) > 0 {}
            let share = Double(generator.repeatedBytes) / Double(generator.size)
            #expect(abs(share - ratio) < 0.12, "asked \(ratio), got \(share)")
        }
    }

    @Test func repeatsAreRealCopiesOfEarlierBytes() {
        var generator = DataGenerator(seed: 11, size: 40 << 20, dupRatio: 1)
        let data = generate(&generator, pieces: 1 << 20)
        // With dupRatio 1 everything after the first segment repeats: a 4 KiB window taken late
        // in the stream occurs earlier.
        let probe = Array(data[(30 << 20)..<((30 << 20) + 4096)])
        let earlier = data[0..<(30 << 20)]
        var found = false
        var i = earlier.startIndex
        while i + 4096 <= earlier.endIndex && !found {
            if earlier[i] == probe[0] && Array(earlier[i..<(i + 4096)]) == probe { found = true }
            i += 1
        }
        #expect(found)
    }
}
