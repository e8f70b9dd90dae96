import Benchmark
import Foundation
import GranaryLMDB

/// Batched puts: how many 32-byte-key rows one durable transaction takes per second.
let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(5)
    )

    Benchmark("LMDB.put.random32B.batch10k", configuration: configuration) { benchmark in
        let path = NSTemporaryDirectory() + "granary-bench-lmdb-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let env = try Environment(directory: path)
        let db = try env.openDatabase("chunks")
        var state: UInt64 = 42
        var key = [UInt8](repeating: 0, count: 32)
        let value = [UInt8](repeating: 7, count: 40)
        benchmark.startMeasurement()
        var remaining = benchmark.scaledIterations.count
        while remaining > 0 {
            let batch = min(remaining, 10_000)
            try env.write { txn in
                for _ in 0..<batch {
                    for i in 0..<4 {
                        state = state &* 6_364_136_223_846_793_005 &+ 1
                        withUnsafeBytes(of: state) { key.replaceSubrange(i * 8..<(i + 1) * 8, with: $0) }
                    }
                    try txn.put(db, key, value)
                }
            }
            remaining -= batch
        }
        benchmark.stopMeasurement()
    }

    Benchmark("LMDB.coordinator.submit.concurrency8", configuration: configuration) { benchmark in
        let path = NSTemporaryDirectory() + "granary-bench-lmdb-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let env = try Environment(directory: path)
        let db = try env.openDatabase("records")
        let coordinator = WriteCoordinator(environment: env)
        let total = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in stride(from: worker, to: total, by: 8) {
                        let key = withUnsafeBytes(of: UInt64(i).bigEndian) { Array($0) }
                        try await coordinator.submit { txn in try txn.put(db, key, key) }
                    }
                }
            }
            try await group.waitForAll()
        }
        benchmark.stopMeasurement()
    }
}
