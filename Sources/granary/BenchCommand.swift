import ArgumentParser
import Foundation
import GranaryBench
import GranaryCodec
import GranaryServer
import GranaryStore
import Synchronization

/// `granary bench`: measurements of the store, and load on any Glance v2 endpoint.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure: ingest throughput of the store; upload and metadata load on any Glance v2 endpoint.",
        subcommands: [Ingest.self, Upload.self, Metadata.self]
    )

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ingest",
            abstract: "Durably ingest generated incompressible data and compare the rate with the computed limit.",
            discussion: """
                The limit comes from single-core speeds of every per-byte pass (chunking, chunk SHA-256, each \
                requested digest) measured in the same run: 1 / max(max c_i, sum c_i / cores).
                """
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "Bytes to ingest.") var size: Int
        @Option(name: .customLong("dup-ratio"), help: "Share of the data that repeats earlier content (0 to 1).")
        var dupRatio = 0.0
        @Option(help: "Whole-object digests (default md5,sha512, Glance's), or none.") var digests = "md5,sha512"
        @Option(help: "Seed of the generated data.") var seed: UInt64 = 1
        @Flag(help: "Print one JSON object.") var json = false

        struct Report: Encodable {
            let mbps: Double
            let limitMbps: Double
            let ratio: Double
            let cpuSeconds: Double
            let peakRSSBytes: Int
            enum CodingKeys: String, CodingKey {
                case mbps, ratio
                case limitMbps = "limit_mbps"
                case cpuSeconds = "cpu_seconds"
                case peakRSSBytes = "peak_rss_bytes"
            }
        }

        func validate() throws {
            if size < 0 { throw ValidationError("--size must be positive") }
            if !(0...1).contains(dupRatio) { throw ValidationError("--dup-ratio must be between 0 and 1") }
            do { _ = try DigestAlgorithm.parseList(digests) } catch { throw ValidationError("\(error)") }
        }

        func run() async throws {
            let settings = try await Settings.load(common: common)
            let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
            let algorithms = try DigestAlgorithm.parseList(digests)
            let costs = PassCosts.measure(bytes: 32 << 20)
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let limit = costs.limitBytesPerSecond(digests: algorithms, cores: cores)

            var generator = DataGenerator(seed: seed, size: size, dupRatio: dupRatio)
            let cpuBefore = cpuSeconds()
            let session = store.beginIngest(digests: algorithms, costs: costs)
            while !generator.isFinished {
                try await session.fill { generator.fill($0) }
            }
            let result = try await store.commit(try await session.finish())
            let cpu = cpuSeconds() - cpuBefore
            let rate = Double(size) / result.seconds
            let report = Report(
                mbps: mbps(bytes: size, seconds: result.seconds),
                limitMbps: (limit / 1e6 * 10).rounded() / 10,
                ratio: (rate / limit * 1000).rounded() / 1000,
                cpuSeconds: (cpu * 1000).rounded() / 1000,
                peakRSSBytes: peakRSS()
            )
            FileHandleOutput.standardError(
                "ingested \(size) bytes (\(generator.repeatedBytes) repeated) in \(String(format: "%.3f", result.seconds)) s: "
                    + "\(report.mbps) MB/s of a \(report.limitMbps) MB/s limit (ratio \(report.ratio)); "
                    + "\(result.newChunks) new chunks, \(result.bytesWritten) bytes written; "
                    + "passes in ns/byte: chunking \(ns(costs.chunking)), chunk sha256 \(ns(costs.chunkSHA256))"
                    + algorithms.map { ", \($0) \(ns(costs.digests[$0] ?? 0))" }.joined())
            if json {
                try printJSON(report)
            } else {
                print(
                    "\(report.mbps) MB/s, limit \(report.limitMbps) MB/s, ratio \(report.ratio), CPU \(report.cpuSeconds) s, peak RSS \(report.peakRSSBytes) B"
                )
            }
        }

        private func ns(_ secondsPerByte: Double) -> String { String(format: "%.3f", secondsPerByte * 1e9) }
    }

    /// Options both load generators take.
    struct EndpointOptions: ParsableArguments {
        @Option(help: "Service root of any Glance v2 endpoint, as for glance --os-image-url (e.g. http://127.0.0.1:9292).")
        var url: String
        @Option(help: "Sent as X-Auth-Token.") var token: String?
        @Option(help: "Requests in flight (one connection each).") var concurrency: Int
        @Flag(help: "Print one JSON object on standard output.") var json = false

        func validate() throws {
            if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
            do { _ = try GlanceEndpoint(url: url, token: token) } catch { throw ValidationError(error.message) }
        }

        func endpoint() throws -> GlanceEndpoint { try GlanceEndpoint(url: url, token: token) }
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "upload",
            abstract: "Create and upload generated images to a Glance v2 endpoint, N in flight, and check what it reports.",
            discussion: """
                Each image is created (POST /v2/images, raw/bare), its data streamed (PUT …/file, HTTP/1.1 \
                keep-alive, no Expect: 100-continue), then shown: checksum (md5) and os_hash_value (whatever \
                os_hash_algo says) must be the generated bytes' digests, computed before the timed run and cached \
                under ~/.cache/granary/bench. --dup-ratio R makes a share R of the data repeat earlier images. \
                MB/s is 10^6 bytes per second of the timed run (create, upload, check); downloads \
                (--verify-download) are timed after it. Every image is deleted unless --keep. \
                Exit status 1 when any error happened.
                """
        )
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "Bytes per image.") var size: Int
        @Option(help: "Images in all.") var count: Int
        @Option(name: .customLong("dup-ratio"), help: "Share of the data that repeats earlier images (0 to 1).")
        var dupRatio = 0.0
        @Option(help: "Seed of the generated data.") var seed: UInt64 = 1
        @Flag(name: .customLong("verify-download"), help: "Download each image and check its bytes' digest.")
        var verifyDownload = false
        @Flag(help: "Keep the images (default: delete them at the end).") var keep = false
        @Flag(help: "Send bodies with Transfer-Encoding: chunked instead of a Content-Length.") var chunked = false
        @Flag(name: .customLong("no-digest-cache"), help: "Do not read or write the on-disk digest cache.")
        var noDigestCache = false

        func validate() throws {
            if size < 0 { throw ValidationError("--size must not be negative") }
            if count < 1 { throw ValidationError("--count must be at least 1") }
            if !(0...1).contains(dupRatio) { throw ValidationError("--dup-ratio must be between 0 and 1") }
        }

        func run() async throws {
            var options = UploadLoadOptions(endpoint: try endpoint.endpoint(), concurrency: endpoint.concurrency, size: size, count: count)
            options.dupRatio = dupRatio
            options.seed = seed
            options.verifyDownload = verifyDownload
            options.keep = keep
            options.chunked = chunked
            options.digestCache = noDigestCache ? nil : .standard
            let progress = PhaseProgress(label: "bench upload") { _ in .bytes }
            let report = await UploadLoad(options).run(progress: progress.show, note: FileHandleOutput.standardError)
            progress.finish()
            if endpoint.json {
                FileHandle.standardOutput.write(report.json() + Data("\n".utf8))
            } else {
                print(
                    "\(report.mbps) MB/s, \(report.imagesPerSecond) images/s: \(report.imagesUploaded)/\(report.count) images, "
                        + "\(report.bytes) bytes in \(report.seconds) s at concurrency \(report.concurrency)")
                print("create   \(latencies(report.createMs))")
                print("upload   \(latencies(report.uploadMs))")
                if verifyDownload { print("download \(latencies(report.downloadMs)), \(report.downloadMbps) MB/s") }
                print(
                    "client CPU \(report.clientCPUSeconds) s (\(report.clientCPUSecondsPerGB) s per GB uploaded); "
                        + "digest precompute \(report.precomputeSeconds) s")
                print("errors   \(errorText(report.errors))")
            }
            if report.hasErrors { throw ExitCode.failure }
        }
    }

    struct Metadata: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "metadata",
            abstract: "Rates of data-less image calls on a Glance v2 endpoint: create, list, patch, delete.",
            discussion: """
                Creates --count images (N in flight), lists them (GET /v2/images?limit=1000 following next, \
                3 full listings), adds a property to each (PATCH, json-patch), deletes each. lists_per_s counts \
                page requests. Exit status 1 when any error happened.
                """
        )
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "Images to create.") var count: Int

        func validate() throws {
            if count < 1 { throw ValidationError("--count must be at least 1") }
        }

        func run() async throws {
            let options = MetadataLoadOptions(endpoint: try endpoint.endpoint(), count: count, concurrency: endpoint.concurrency)
            let progress = PhaseProgress(label: "bench metadata") { _ in .items("calls") }
            let report = await MetadataLoad(options).run(progress: progress.show, note: FileHandleOutput.standardError)
            progress.finish()
            if endpoint.json {
                FileHandle.standardOutput.write(report.json() + Data("\n".utf8))
            } else {
                print(
                    "creates \(report.createsPerSecond)/s, lists \(report.listsPerSecond)/s (\(report.listPages) pages), "
                        + "patches \(report.patchesPerSecond)/s, deletes \(report.deletesPerSecond)/s; "
                        + "\(report.count) images at concurrency \(report.concurrency)")
                print("create \(latencies(report.createMs))")
                print("list   \(latencies(report.listMs))")
                print("patch  \(latencies(report.patchMs))")
                print("delete \(latencies(report.deleteMs))")
                print("errors \(errorText(report.errors))")
            }
            if report.hasErrors { throw ExitCode.failure }
        }
    }
}

private func latencies(_ summary: LatencySummary) -> String {
    "p50 \(summary.p50) ms, p90 \(summary.p90) ms, p99 \(summary.p99) ms, max \(summary.max) ms"
}

private func errorText(_ errors: [String: Int]) -> String {
    errors.isEmpty ? "none" : errors.keys.sorted().map { "\($0): \(errors[$0] ?? 0)" }.joined(separator: ", ")
}

/// One progress line per phase of a load (upload then download; create, list, …).
private final class PhaseProgress: Sendable {
    private let label: String
    private let unit: @Sendable (String) -> ProgressLine.Unit
    private let current = Mutex<(phase: String, line: ProgressLine)?>(nil)

    init(label: String, unit: @escaping @Sendable (String) -> ProgressLine.Unit) {
        self.label = label
        self.unit = unit
    }

    func show(_ progress: LoadProgress) {
        let line = current.withLock { current -> ProgressLine in
            if let current, current.phase == progress.phase { return current.line }
            current?.line.finish()
            let line = ProgressLine(label: "\(label) \(progress.phase)", unit: unit(progress.phase))
            current = (progress.phase, line)
            return line
        }
        line.show(done: progress.done, total: progress.total, detail: progress.errors > 0 ? "\(progress.errors) errors" : "")
    }

    func finish() {
        current.withLock { $0?.line.finish() }
    }
}
