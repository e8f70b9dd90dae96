/// The objects of an upload run: image `i` continues its own virtual stream (a seed derived
/// from the run's seed and `i`), and with `dupRatio` a share of its segments repeats bytes of
/// the images before it (or its own earlier bytes), so a store's dedup across uploads shows.
///
/// Deterministic: the same (seed, size, dupRatio) gives the same bytes for image `i` whatever
/// the count, so digests cached for one run serve the next.
package struct ImageSeries: Sendable {
    package let seed: UInt64
    package let size: Int
    package let dupRatio: Double
    package let count: Int
    /// What each image leaves for later ones to repeat; known by running the segment choices
    /// alone (no bytes), in order, since image `i` may repeat any image before it.
    private let sources: [DataGenerator.Source]

    package init(seed: UInt64, size: Int, count: Int, dupRatio: Double = 0) {
        precondition(size >= 0 && count >= 0 && (0...1).contains(dupRatio))
        self.seed = seed
        self.size = size
        self.dupRatio = dupRatio
        self.count = count
        var sources: [DataGenerator.Source] = []
        sources.reserveCapacity(count)
        for index in 0..<count {
            let imageSeed = Self.imageSeed(seed, index)
            var plan = DataGenerator(seed: imageSeed, size: size, dupRatio: dupRatio, earlier: sources[...])
            plan.skipToEnd()
            sources.append(DataGenerator.Source(seed: imageSeed, uniqueLength: plan.uniqueLength))
        }
        self.sources = sources
    }

    /// A fresh generator of image `index`'s bytes.
    package func generator(_ index: Int) -> DataGenerator {
        DataGenerator(seed: sources[index].seed, size: size, dupRatio: dupRatio, earlier: sources[..<index])
    }

    /// Names image `index`'s content, for caching its digests (`g2`: the generator's second
    /// byte stream, a random table XOR a key per block).
    package func contentKey(_ index: Int) -> String {
        "g2-s\(seed)-i\(index)-n\(size)-r\(dupRatio)"
    }

    static func imageSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        DataGenerator.word(seed ^ 0x6A09_E667_F3BC_C908, index)
    }
}
