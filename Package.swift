// swift-tools-version:6.1
// The target graph is the architecture (docs/architecture.md):
// C system libraries → Swift wrappers → storage engine → parsers, index, catalog → outbound HTTP →
// HTTP → APIs → the composition root (GranaryServer) → executable. Arrows point down only (CI
// builds with the explicit target-dependency import check).
// C modules are imported by the wrappers (GranaryLMDB, GranaryCodec) and by GranaryStore
// (CGranaryFileIO's sync_file_range); Glibc by the targets that make system calls themselves:
// GranaryStore (files, mmap), GranaryFetch (getaddrinfo), GranaryHTTP (gmtime_r), GranaryBench
// and granary (resource usage, terminals).

import PackageDescription

let package = Package(
    name: "granary",
    platforms: [.macOS(.v15)],
    // Only the server is a product: the libraries are this package's own rooms, their API is
    // `package`, not `public` (the benchmarks are targets of this package, below).
    products: [
        .executable(name: "granary", targets: ["granary"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // MARK: C system libraries (module map + shim header only)
        .systemLibrary(name: "CGranaryLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CGranaryZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CGranaryCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // CRC32C with the SSE4.2 instruction (runtime-dispatched, portable fallback): no Debian library ships it.
        .target(name: "CGranaryCRC32C"),
        // SHA-256 of two messages at once with the SHA extensions (OpenSSL hashes one stream at a time).
        .target(name: "CGranarySHA256"),
        // Linux file calls Swift's Glibc module hides behind _GNU_SOURCE (sync_file_range).
        .target(name: "CGranaryFileIO"),

        // MARK: Swift wrappers (the only targets that import a C module)
        .target(name: "GranaryLMDB", dependencies: ["CGranaryLMDB"]),
        .target(name: "GranaryCodec", dependencies: ["CGranaryZstd", "CGranaryCrypto", "CGranaryCRC32C", "CGranarySHA256"]),

        // MARK: Storage engine
        .target(
            name: "GranaryStore",
            dependencies: [
                "GranaryLMDB", "GranaryCodec", "CGranaryFileIO", "GranaryObjectStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Request parsers: pure functions of request text (no NIO, no Hummingbird), fuzzed on their own
        .target(name: "GranaryParsing"),

        // MARK: Metadata index (images, later artifacts) in the same LMDB environment
        .target(name: "GranaryIndex", dependencies: ["GranaryLMDB", "GranaryCodec", "GranaryParsing"]),

        // MARK: Domain rules (Glance/Glare), no HTTP
        .target(name: "GranaryCatalog", dependencies: ["GranaryIndex", "GranaryStore", "GranaryLMDB", "GranaryCodec", "GranaryParsing"]),

        // MARK: Load generation (benchmark data; Glance v2 upload and metadata load over a small NIO HTTP/1.1 client)
        .target(
            name: "GranaryBench",
            dependencies: [
                "GranaryCodec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),

        // MARK: Outbound HTTP: the one client setup (deadlines, one error type) and the fetchers of
        // external data (web-download imports, artifact external locations), guarded against SSRF
        .target(
            name: "GranaryFetch",
            dependencies: [
                "GranaryCodec", "GranaryParsing",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),

        // Object stores that hold packs: OpenStack Swift (tempauth or Keystone) and S3 (SigV4),
        // small clients over GranaryFetch's one outbound client, signing with swift-crypto.
        .target(
            name: "GranaryObjectStore",
            dependencies: [
                "GranaryFetch", "GranaryCodec", "GranaryParsing",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),

        // MARK: HTTP: what both APIs share (request context, auth, request ids, bodies, ranged
        // downloads, zero-copy file regions, the server builder, the error classification)
        .target(
            name: "GranaryHTTP",
            dependencies: [
                "GranaryCatalog", "GranaryStore", "GranaryCodec", "GranaryParsing", "GranaryFetch",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // Keystone token validation (keystone auth mode), over GranaryFetch's client.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),

        .target(
            name: "GranaryImagesAPI",
            dependencies: [
                "GranaryHTTP", "GranaryCatalog", "GranaryIndex", "GranaryStore", "GranaryCodec", "GranaryFetch", "GranaryParsing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // Keystone token validation (keystone auth mode).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Background work that ends with the server (web-download fetches).
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .target(
            name: "GranaryArtifactsAPI",
            dependencies: [
                "GranaryHTTP", "GranaryCatalog", "GranaryIndex", "GranaryStore", "GranaryCodec", "GranaryFetch", "GranaryParsing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // MARK: The composition root: settings, both listeners and every background service
        .target(
            name: "GranaryServer",
            dependencies: [
                "GranaryStore", "GranaryObjectStore", "GranaryCatalog", "GranaryFetch", "GranaryHTTP", "GranaryImagesAPI", "GranaryArtifactsAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Test support: temporary directories checked and removed after each test, seeded data,
        // the store and server fixtures (the app `granary serve` runs)
        .target(
            name: "GranaryTesting",
            dependencies: [
                "GranaryServer", "GranaryStore", "GranaryCatalog", "GranaryCodec", "GranaryBench",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Executable
        .executableTarget(
            name: "granary",
            dependencies: [
                "GranaryServer", "GranaryStore", "GranaryIndex", "GranaryCatalog", "GranaryFetch", "GranaryHTTP", "GranaryImagesAPI",
                "GranaryArtifactsAPI",
                "GranaryBench", "GranaryParsing", "GranaryCodec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
            ]
        ),

        // MARK: Tests (Swift Testing, real LMDB / zstd / OpenSSL / loopback HTTP; GranaryTesting checks
        // every store a test leaves and removes its directories)
        .testTarget(name: "GranaryLMDBTests", dependencies: ["GranaryLMDB", "GranaryTesting"]),
        .testTarget(name: "GranaryCodecTests", dependencies: ["GranaryCodec", "GranaryTesting"]),
        .testTarget(name: "GranaryParsingTests", dependencies: ["GranaryParsing"]),
        .testTarget(
            name: "GranaryStoreTests",
            dependencies: [
                "GranaryStore", "GranaryObjectStore", "GranaryLMDB", "GranaryCodec", "GranaryTesting",
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Runs the load against the real Granary application and a faulty Glance-like peer on loopback.
        .testTarget(
            name: "GranaryBenchTests",
            dependencies: [
                "GranaryBench", "GranaryCodec", "GranaryTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Kills the real `granary` executable at random points; needs it built (`swift build`).
        .testTarget(name: "GranaryCrashTests", dependencies: ["GranaryStore", "GranaryBench", "GranaryCodec", "GranaryTesting"]),
        .testTarget(
            name: "GranaryCatalogTests",
            dependencies: ["GranaryCatalog", "GranaryIndex", "GranaryStore", "GranaryLMDB", "GranaryCodec", "GranaryParsing", "GranaryTesting"]),
        // Runs against the real OpenStack Swift all-in-one (tools/swift-peer), its S3 API included.
        .testTarget(
            name: "GranaryObjectStoreTests",
            dependencies: ["GranaryObjectStore", "GranaryTesting", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "GranaryFetchTests",
            dependencies: ["GranaryFetch", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .testTarget(
            name: "GranaryImagesAPITests",
            dependencies: [
                "GranaryImagesAPI", "GranaryCatalog", "GranaryStore", "GranaryCodec", "GranaryTesting",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)

// Shared settings for every Swift target (swift-nio / swift-log style).
for target in package.targets where target.type != .system && !target.name.hasPrefix("C") {
    var settings = target.swiftSettings ?? []
    settings.append(contentsOf: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
    ])
    target.swiftSettings = settings
}

// Benchmarks: targets of this package (so they reach its `package` API), built only with
// GRANARY_BENCHMARKS=1 so that normal builds and CI never fetch or compile the harness.
// Run: `GRANARY_BENCHMARKS=1 swift package --scratch-path .build-bench benchmark --target CodecBenchmarks`.
if Context.environment["GRANARY_BENCHMARKS"] == "1" {
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]))
    let benchmark = Target.Dependency.product(name: "Benchmark", package: "benchmark")
    let harness = [Target.PluginUsage.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    package.targets += [
        .executableTarget(
            name: "CodecBenchmarks", dependencies: [benchmark, "GranaryCodec"], path: "benchmarks/Benchmarks/CodecBenchmarks", plugins: harness),
        .executableTarget(
            name: "StoreBenchmarks", dependencies: [benchmark, "GranaryStore", "GranaryBench", "GranaryCodec"],
            path: "benchmarks/Benchmarks/StoreBenchmarks", plugins: harness),
        .executableTarget(
            name: "LMDBBenchmarks", dependencies: [benchmark, "GranaryLMDB"], path: "benchmarks/Benchmarks/LMDBBenchmarks", plugins: harness),
        // Not an ordo-one benchmark: a bulk loader of 1M image records plus its own page timer
        // (the load must happen once per run, outside any measured iteration).
        .executableTarget(
            name: "ListBench", dependencies: ["GranaryCatalog", "GranaryIndex", "GranaryParsing", "GranaryStore", "GranaryLMDB"],
            path: "benchmarks/ListBench"),
    ]
}
