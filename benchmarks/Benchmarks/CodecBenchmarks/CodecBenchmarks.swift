import Benchmark
import GranaryCodec

/// Per-byte passes of the ingest hot path, each on one core, over 1 MiB buffers (as an upload
/// feeds them). Throughput is bytes per second: each iteration processes `bufferSize` bytes.
let bufferSize = 1 << 20

/// Incompressible bytes, made once.
func randomBuffer(_ count: Int) -> [UInt8] {
    var state: UInt64 = 0x1234_5678
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

let benchmarks: @Sendable () -> Void = {
    let data = randomBuffer(bufferSize)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .one,
        maxDuration: .seconds(3)
    )

    for algorithm in DigestAlgorithm.allCases {
        Benchmark("Codec.\(algorithm).1MiB", configuration: configuration) { benchmark in
            let digest = StreamingDigest(algorithm)
            data.withUnsafeBytes { bytes in
                for _ in benchmark.scaledIterations { digest.update(bytes) }
            }
            blackHole(digest.finalize())
        }
    }

    // Chunk ids as ingest computes them: 16 chunks of 64 KiB per MiB, two at a time.
    Benchmark("Codec.sha256.paired.64KiBx16", configuration: configuration) { benchmark in
        let hashes = PairedSHA256()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 32, alignment: 8)
        defer { out.deallocate() }
        data.withUnsafeBytes { bytes in
            let chunks = (0..<16).map { [UnsafeRawBufferPointer(rebasing: bytes[($0 << 16)..<(($0 + 1) << 16)])] }
            for _ in benchmark.scaledIterations { hashes.digests(of: chunks, into: out) }
        }
        blackHole(out[0])
    }

    Benchmark("Codec.fastcdc.1MiB", configuration: configuration) { benchmark in
        var chunker = GearChunker()
        var boundaries = 0
        data.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                var position = 0
                while let end = chunker.nextBoundary(in: bytes, from: position) {
                    position = end
                    boundaries += 1
                }
            }
        }
        blackHole(boundaries)
    }

    Benchmark("Codec.crc32c.1MiB", configuration: configuration) { benchmark in
        var crc: UInt32 = 0
        data.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations { crc = CRC32C.checksum(bytes, continuing: crc) }
        }
        blackHole(crc)
    }

    // zstd level 1 on text-like data (compressible) in 64 KiB chunks, as chunks are compressed.
    let text = Array(
        String(repeating: "Granary stores many versions of large VM images; most bytes repeat. ", count: 16_000).utf8.prefix(bufferSize)
    )
    Benchmark("Codec.zstd1.compress.64KiBx16", configuration: configuration) { benchmark in
        let compressor = ZstdCompressor(level: 1)
        var out = [UInt8](repeating: 0, count: ZstdCompressor.maxCompressedSize(1 << 16))
        text.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for _ in benchmark.scaledIterations {
                    for offset in stride(from: 0, to: src.count, by: 1 << 16) {
                        let chunk = UnsafeRawBufferPointer(rebasing: src[offset..<min(src.count, offset + (1 << 16))])
                        blackHole(try? compressor.compress(chunk, into: dst))
                    }
                }
            }
        }
    }
}
