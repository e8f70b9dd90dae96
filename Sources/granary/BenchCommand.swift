import ArgumentParser
import Foundation
import GranaryBench
import GranaryCodec
import GranaryStore

#if canImport(Glibc)
    import Glibc
#endif

/// `granary bench`: measurements of the store (and, later, of any Glance endpoint).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure: ingest throughput of the store (upload and metadata load generators come later).",
        subcommands: [Ingest.self]
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
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Peak resident set size of this process, in bytes.
func peakRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
