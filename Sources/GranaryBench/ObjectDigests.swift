import Foundation
package import GranaryCodec

#if canImport(Glibc)
    import Glibc
#endif

/// Whole-object digests of generated images, computed once before a timed run (and cached on
/// disk) so that verifying what a server reports costs the client nothing while it is measured.
package struct ObjectDigests: Sendable {
    /// Lower-case hex digests by algorithm, one dictionary per image of the series.
    package private(set) var images: [[DigestAlgorithm: String]]
    /// Images whose digests had to be computed (the rest came from the disk cache).
    package let computed: Int
    package let seconds: Double

    /// The digests a Glance server may report (md5 `checksum`, sha512 or sha256 `os_hash_value`);
    /// sha256 is also the cheapest here, so downloads are verified with it.
    package static let defaultAlgorithms: [DigestAlgorithm] = [.md5, .sha256, .sha512]

    /// Computes (or loads) the digests of every image of `series`, `parallelism` images at a time.
    package static func precompute(
        _ series: ImageSeries, algorithms: [DigestAlgorithm] = defaultAlgorithms, cache: DigestCache?,
        parallelism: Int? = nil
    ) async -> ObjectDigests {
        let parallelism = parallelism ?? ProcessInfo.processInfo.activeProcessorCount
        let start = ContinuousClock.now
        var images = [[DigestAlgorithm: String]](repeating: [:], count: series.count)
        var missing: [Int] = []
        for index in 0..<series.count {
            if let cached = cache?.load(series.contentKey(index)), algorithms.allSatisfy({ cached[$0] != nil }) {
                images[index] = cached
            } else {
                missing.append(index)
            }
        }
        await withTaskGroup(of: (Int, [DigestAlgorithm: String]).self) { group in
            var next = missing.makeIterator()
            for _ in 0..<max(1, parallelism) {
                guard let index = next.next() else { break }
                group.addTask { (index, digest(series, index, algorithms)) }
            }
            while let (index, digests) = await group.next() {
                images[index] = digests
                cache?.store(digests, for: series.contentKey(index))
                if let index = next.next() { group.addTask { (index, digest(series, index, algorithms)) } }
            }
        }
        return ObjectDigests(images: images, computed: missing.count, seconds: (ContinuousClock.now - start).seconds)
    }

    /// Adds `algorithm` for the images in `indices` (a server reporting a digest not precomputed).
    package mutating func add(_ algorithm: DigestAlgorithm, series: ImageSeries, for indices: [Int]) {
        for index in indices where images[index][algorithm] == nil {
            images[index][algorithm] = Self.digest(series, index, [algorithm])[algorithm]
        }
    }

    /// Generates image `index` into one reused 1 MiB buffer and feeds every digest.
    static func digest(_ series: ImageSeries, _ index: Int, _ algorithms: [DigestAlgorithm]) -> [DigestAlgorithm: String] {
        var generator = series.generator(index)
        let digests = DigestSet(algorithms)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = generator.fill(buffer)
            if n == 0 { break }
            digests.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return digests.finalize().mapValues(\.hex)
    }
}

/// Digests of generated objects on disk, one small JSON file per object under
/// `$XDG_CACHE_HOME/granary/bench` (default `~/.cache/granary/bench`). A bad or missing file is
/// simply recomputed.
package struct DigestCache: Sendable {
    package let directory: String

    package init(directory: String) {
        self.directory = directory
    }

    /// The default place; the generator's version is in the name, so a changed generator never
    /// reads digests of other bytes.
    package static var standard: DigestCache {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
        return DigestCache(directory: base + "/granary/bench/digests-v1")
    }

    func load(_ key: String) -> [DigestAlgorithm: String]? {
        guard let data = FileManager.default.contents(atPath: path(key)),
            let table = try? JSONDecoder().decode([String: String].self, from: data)
        else { return nil }
        var result: [DigestAlgorithm: String] = [:]
        for (name, hex) in table {
            if let algorithm = DigestAlgorithm(rawValue: name) { result[algorithm] = hex }
        }
        return result
    }

    /// Best effort: a cache that cannot be written only costs the next run a recomputation.
    func store(_ digests: [DigestAlgorithm: String], for key: String) {
        var table = load(key).map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key.rawValue, $0.value) }) } ?? [:]
        for (algorithm, hex) in digests { table[algorithm.rawValue] = hex }
        guard let data = try? JSONEncoder().encode(table) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path(key) + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        if rename(temporary, path(key)) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
    }

    private func path(_ key: String) -> String { directory + "/" + key + ".json" }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
