import GranaryBench
import GranaryCodec
import Testing

@Suite struct ImageSeriesTests {
    func bytes(_ generator: DataGenerator, piece: Int = 1 << 20) -> [UInt8] {
        var generator = generator
        var out = [UInt8](repeating: 0, count: generator.size)
        var offset = 0
        out.withUnsafeMutableBytes { all in
            while !generator.isFinished {
                let end = min(offset + piece, all.count)
                offset += generator.fill(UnsafeMutableRawBufferPointer(rebasing: all[offset..<end]))
            }
        }
        return out
    }

    @Test func imagesAreDeterministicPerSeedAndIndexWhateverTheCount() {
        let a = ImageSeries(seed: 5, size: 3_000_001, count: 6, dupRatio: 0.5)
        let b = ImageSeries(seed: 5, size: 3_000_001, count: 3, dupRatio: 0.5)
        let other = ImageSeries(seed: 6, size: 3_000_001, count: 3, dupRatio: 0.5)
        for index in 0..<3 {
            #expect(bytes(a.generator(index)) == bytes(b.generator(index), piece: 4093))
            #expect(a.contentKey(index) == b.contentKey(index))
            #expect(bytes(a.generator(index)) != bytes(other.generator(index)))
        }
        #expect(bytes(a.generator(1)) != bytes(a.generator(2)))
    }

    /// Measures repeats the way a dedup store sees them: content-defined chunks (FastCDC, as
    /// the store cuts them) whose SHA-256 was seen before, across all images in order.
    func measuredRepeats(_ series: ImageSeries) -> (share: Double, fromEarlierImages: Double, reported: Double) {
        var seen: [Digest: Int] = [:]
        var repeated = 0
        var fromEarlier = 0
        var reported = 0
        for index in 0..<series.count {
            var generator = series.generator(index)
            let data = bytes(generator)
            generator.skipToEnd()
            reported += generator.repeatedBytes
            data.withUnsafeBytes { all in
                var start = 0
                for length in GearChunker.chunkLengths(of: all) {
                    let digest = StreamingDigest.hash(.sha256, UnsafeRawBufferPointer(rebasing: all[start..<(start + length)]))
                    if let first = seen[digest] {
                        repeated += length
                        if first < index { fromEarlier += length }
                    } else {
                        seen[digest] = index
                    }
                    start += length
                }
            }
        }
        let total = Double(series.size * series.count)
        return (Double(repeated) / total, Double(fromEarlier) / total, Double(reported) / total)
    }

    @Test(arguments: [0.0, 0.5, 0.8])
    func dupRatioAcrossImagesIsWhatWasAsked(ratio: Double) {
        let series = ImageSeries(seed: 9, size: 5 << 20, count: 24, dupRatio: ratio)
        let measured = measuredRepeats(series)
        // Segments are 2–6 MiB chosen at random, so 24 images of 5 MiB give ~40 draws; the chunks
        // straddling a repeat's two edges (64 KiB on average each) do not dedup, so the measured
        // share sits a few percent below what the generator repeated, never above it.
        #expect(abs(measured.share - ratio) < 0.1, "asked \(ratio), measured \(measured.share)")
        #expect(measured.share <= measured.reported, "measured \(measured.share), generator says \(measured.reported)")
        #expect(measured.share > measured.reported - 0.07, "measured \(measured.share), generator says \(measured.reported)")
        if ratio > 0 {
            #expect(measured.fromEarlierImages > ratio / 2, "repeats of earlier images: \(measured.fromEarlierImages)")
        } else {
            #expect(measured.share == 0)
        }
    }
}
