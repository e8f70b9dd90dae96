import Benchmark
import Foundation
import GranaryBench
import GranaryCodec
import GranaryStore

/// Durable ingest and read throughput of the store, 256 MiB per iteration; throughput counts
/// MiB per second (each iteration processes `size` bytes, scaled by 256).
let size = 256 << 20

func temporaryStore() throws -> (BlobStore, String) {
    let path = NSTemporaryDirectory() + "granary-bench-store-" + UUID().uuidString
    return (try BlobStore(directory: DataDirectory(path: path, access: .exclusive)), path)
}

func ingest(_ store: BlobStore, seed: UInt64, dupRatio: Double, digests: [DigestAlgorithm]) async throws -> PutResult {
    var generator = DataGenerator(seed: seed, size: size, dupRatio: dupRatio)
    let session = store.beginIngest(digests: digests)
    while !generator.isFinished { try await session.fill { generator.fill($0) } }
    return try await store.commit(try await session.finish())
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .cpuTotal, .peakMemoryResident],
        scalingFactor: .one,
        maxDuration: .seconds(20),
        maxIterations: 5
    )

    Benchmark("Store.ingest.unique.md5+sha512.256MiB", configuration: configuration) { benchmark in
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: path) }
        for iteration in benchmark.scaledIterations {
            blackHole(try await ingest(store, seed: UInt64(iteration + 1), dupRatio: 0, digests: [.md5, .sha512]))
        }
    }

    Benchmark("Store.ingest.unique.sha256.256MiB", configuration: configuration) { benchmark in
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: path) }
        for iteration in benchmark.scaledIterations {
            blackHole(try await ingest(store, seed: UInt64(iteration + 1), dupRatio: 0, digests: [.sha256]))
        }
    }

    Benchmark("Store.ingest.repeated.none.256MiB", configuration: configuration) { benchmark in
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try await ingest(store, seed: 42, dupRatio: 0, digests: [])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await ingest(store, seed: 42, dupRatio: 0, digests: []))
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Store.read.raw.256MiB", configuration: configuration) { benchmark in
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let id = try await ingest(store, seed: 7, dupRatio: 0, digests: []).blob.id
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var bytes = 0
            try store.read(id) { bytes += $0.count }
            blackHole(bytes)
        }
        benchmark.stopMeasurement()
    }
}
