import Foundation
import GranaryBench
import GranaryCodec
import GranaryTesting
import Testing

@Suite(.consistencyChecked) struct ObjectDigestsTests {
    @Test func precomputedDigestsAreTheBytesDigestsAndComeBackFromTheCache() async throws {
        let directory = TemporaryDirectory("granary-digests").path
        let series = ImageSeries(seed: 3, size: 2_500_000, count: 3, dupRatio: 0.5)
        let first = await ObjectDigests.precompute(series, cache: DigestCache(directory: directory))
        #expect(first.computed == 3)
        for index in 0..<series.count {
            var generator = series.generator(index)
            var data = [UInt8](repeating: 0, count: series.size)
            _ = data.withUnsafeMutableBytes { generator.fill($0) }
            for algorithm in ObjectDigests.defaultAlgorithms {
                #expect(first.images[index][algorithm] == StreamingDigest.hash(algorithm, data).hex, "\(index) \(algorithm)")
            }
        }
        let second = await ObjectDigests.precompute(series, cache: DigestCache(directory: directory))
        #expect(second.computed == 0)
        #expect(second.images == first.images)
        // Another series (other size) is not served from the same cache entries.
        let other = await ObjectDigests.precompute(
            ImageSeries(seed: 3, size: 2_500_001, count: 3, dupRatio: 0.5), cache: DigestCache(directory: directory))
        #expect(other.computed == 3)
    }
}
