// swift-tools-version:6.1
// Benchmarks live in their own package so that normal builds and CI stay fast.
// Run: `cd benchmarks && swift package benchmark` (ordo-one/benchmark finds targets under Benchmarks/).

import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which differs between clones.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "granary-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GranaryCodec", package: root),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "StoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GranaryStore", package: root),
                .product(name: "GranaryBench", package: root),
                .product(name: "GranaryCodec", package: root),
            ],
            path: "Benchmarks/StoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "LMDBBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GranaryLMDB", package: root),
            ],
            path: "Benchmarks/LMDBBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not an ordo-one benchmark: a bulk loader of 1M image records plus its own page timer
        // (the load must happen once per run, outside any measured iteration).
        .executableTarget(
            name: "ListBench",
            dependencies: [
                .product(name: "GranaryCatalog", package: root),
                .product(name: "GranaryIndex", package: root),
                .product(name: "GranaryParsing", package: root),
                .product(name: "GranaryStore", package: root),
                .product(name: "GranaryLMDB", package: root),
            ],
            path: "ListBench"
        ),
    ]
)
