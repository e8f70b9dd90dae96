import ArgumentParser
import Foundation
import GranaryBench
import GranaryCodec
import GranaryServer
import GranaryStore
import Logging

/// Hidden tools for the crash-safety tests: a workload to kill at random points.
struct DebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Workloads for crash-safety testing.",
        shouldDisplay: false,
        subcommands: [IngestLoop.self]
    )

    /// Ingests generated blobs forever from several tasks, releasing some, and prints one JSON
    /// line per acknowledged (durably committed) put and before each release, so a test that
    /// kills it knows exactly what must survive.
    struct IngestLoop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ingest-loop")
        @OptionGroup var common: CommonOptions
        @Option var seed: UInt64 = 1
        @Option(name: .customLong("max-size")) var maxSize = 3 << 20
        @Option var writers = 3
        @Flag(help: "Also run GC (grace 0) in a loop beside the writers.") var gc = false
        @Option(help: "Stop by itself after this many seconds (a test that loses track of it fills no disk).")
        var seconds = 60.0

        func run() async throws {
            let settings = try await Settings.load(common: common)
            let store = try openStore(settings, logger: makeLogger(level: .error))
            let output = LineOutput()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                    throw ExitCode.success
                }
                for writer in 0..<writers {
                    group.addTask {
                        var random = SplitMix(state: seed &* 7919 &+ UInt64(writer))
                        var acknowledged: [String] = []
                        for round in 0... {
                            try Task.checkCancellation()
                            if !acknowledged.isEmpty && random.next() % 5 == 0 {
                                let victim = acknowledged.remove(at: Int(random.next() % UInt64(acknowledged.count)))
                                output.line("{\"releasing\":\"\(victim)\"}")
                                try await store.release(SHA256Key(hex: victim)!)
                                continue
                            }
                            // Some rounds repeat an earlier seed: whole-blob and chunk dedup under fire.
                            let dataSeed = random.next() % 3 == 0 ? UInt64(random.next() % UInt64(round + 1)) : seed << 32 | UInt64(round)
                            let size = Int(random.next() % UInt64(maxSize + 1))
                            let dup = Double(random.next() % 4) / 4
                            var generator = DataGenerator(seed: dataSeed, size: size, dupRatio: dup)
                            let session = store.beginIngest(digests: [.sha256])
                            while !generator.isFinished { try await session.fill { generator.fill($0) } }
                            let result = try await store.commit(try await session.finish())
                            acknowledged.append(result.blob.id.hex)
                            output.line(
                                "{\"seed\":\(dataSeed),\"size\":\(size),\"dup\":\(dup),\"blob\":\"\(result.blob.id.hex)\","
                                    + "\"sha256\":\"\(result.blob.digests[.sha256]!.hex)\"}")
                        }
                    }
                }
                if gc {
                    group.addTask {
                        var options = GCOptions()
                        options.grace = 0
                        while !Task.isCancelled {
                            store.sealOpenPacks()
                            let report = try await store.collectGarbage(options)
                            output.line("{\"gc_compacted\":\(report.packsCompacted)}")
                            try await Task.sleep(nanoseconds: 20_000_000)
                        }
                    }
                }
                // The first task to end (the --seconds timer, or an error) ends them all.
                try await group.next()
                group.cancelAll()
            }
        }
    }
}

/// Whole lines to stdout, unbuffered, from any task.
final class LineOutput: Sendable {
    private let lock = NSLock()
    func line(_ text: String) {
        lock.withLock { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    }
}
