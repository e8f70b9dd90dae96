import Dispatch
package import GranaryCodec

/// Seconds per byte of each per-byte pass, measured on one core.
package struct PassCosts: Sendable {
    package var chunking: Double
    package var chunkSHA256: Double
    package var digests: [DigestAlgorithm: Double]
    /// Work per stored byte that is not a pass of its own (zero check, CRC32C, copy into the pack).
    package var sink: Double

    /// Measures every pass over `bytes` of incompressible data (a few milliseconds at 4 MiB).
    package static func measure(bytes: Int = 4 << 20) -> PassCosts {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in stride(from: 0, to: bytes, by: 8) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            buffer.storeBytes(of: state ^ (state >> 29), toByteOffset: i, as: UInt64.self)
        }
        let data = UnsafeRawBufferPointer(buffer)
        func seconds(_ body: () -> Void) -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return best / Double(bytes)
        }
        let chunking = seconds {
            var chunker = GearChunker()
            var position = 0
            while let end = chunker.nextBoundary(in: data, from: position) { position = end }
        }
        var digests: [DigestAlgorithm: Double] = [:]
        for algorithm in DigestAlgorithm.allCases {
            let digest = StreamingDigest(algorithm)
            digests[algorithm] = seconds {
                digest.update(data)
                _ = digest.finalize()
            }
        }
        let crc = seconds { _ = CRC32C.checksum(data) }
        return PassCosts(chunking: chunking, chunkSHA256: digests[.sha256] ?? 0, digests: digests, sink: crc * 2)
    }

    /// Measured once per process, at the first ingest.
    package static let current = PassCosts.measure()

    /// The throughput limit for one stream on `cores` cores (docs/architecture.md):
    /// `1 / max(max_i c_i, Σ c_i / n)` over chunking, chunk SHA-256 and each requested digest.
    package func limitBytesPerSecond(digests requested: [DigestAlgorithm], cores: Int) -> Double {
        let passes = [chunking, chunkSHA256] + requested.map { digests[$0] ?? 0 }
        let bound = max(passes.max() ?? 0, passes.reduce(0, +) / Double(max(1, cores)))
        return bound > 0 ? 1 / bound : .infinity
    }
}

/// How one upload's per-byte work is split over two lanes (one core each).
///
/// Lane A runs the chunker (it must see bytes in order) and hashes a share of the chunks; lane B
/// hashes the other chunks, stores them and keeps the manifest. Whole-object digests cannot be
/// split, so each goes whole to the lighter lane (SHA-256 to lane B, to pair with its chunk
/// hashes); the chunk-hash share then evens out the rest.
/// A plain "chunk side | digest side" split reaches only ~0.7 of the limit with Glance's digests.
struct LanePlan: Equatable {
    var laneA: [DigestAlgorithm]
    var laneB: [DigestAlgorithm]
    /// Fraction of chunk bytes whose SHA-256 lane A computes.
    var chunkShareA: Double

    static func make(digests: [DigestAlgorithm], costs: PassCosts) -> LanePlan {
        var loadA = costs.chunking
        var loadB = costs.sink
        var laneA: [DigestAlgorithm] = []
        var laneB: [DigestAlgorithm] = []
        for algorithm in digests.sorted(by: { (costs.digests[$0] ?? 0) > (costs.digests[$1] ?? 0) }) {
            let cost = costs.digests[algorithm] ?? 0
            // A whole-object SHA-256 is hashed in lane B's sink beside the chunk hashes lane A
            // left, two streams at once (``PairedSHA256``); lane A then hashes its share of
            // chunks in pairs too.
            if algorithm == .sha256 {
                laneB.append(algorithm)
                loadB += cost
            } else if loadA <= loadB {
                laneA.append(algorithm)
                loadA += cost
            } else {
                laneB.append(algorithm)
                loadB += cost
            }
        }
        let c = max(costs.chunkSHA256, 1e-12)
        // loadA + f·c = loadB + (1 − f)·c
        let share = min(1, max(0, (loadB + c - loadA) / (2 * c)))
        return LanePlan(laneA: laneA, laneB: laneB, chunkShareA: share)
    }
}
