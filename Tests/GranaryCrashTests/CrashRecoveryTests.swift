import Foundation
import GranaryBench
import GranaryCodec
import GranaryStore
import GranaryTesting
import Testing

/// The `granary` executable built next to this test bundle.
func granaryExecutable() throws -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("granary")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw CrashTestError(message: "no granary executable near \(CommandLine.arguments[0]); run `swift build` first")
}

struct CrashTestError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// What the child acknowledged before it died.
struct Acknowledged: Decodable {
    let seed: UInt64
    let size: Int
    let dup: Double
    let blob: String
    let sha256: String
}

/// Reads a child's stdout lines as they come.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = Data()
    private(set) var acknowledged: [Acknowledged] = []
    private(set) var releasing: Set<String> = []
    private(set) var compactions = 0

    func consume(_ data: Data) {
        lock.withLock {
            buffer.append(data)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                if let ack = try? JSONDecoder().decode(Acknowledged.self, from: line) {
                    acknowledged.append(ack)
                } else if let release = try? JSONDecoder().decode([String: String].self, from: line), let id = release["releasing"] {
                    releasing.insert(id)
                } else if let gc = try? JSONDecoder().decode([String: Int].self, from: line), let n = gc["gc_compacted"] {
                    compactions += n
                }
            }
        }
    }

    var snapshot: ([Acknowledged], Set<String>) { lock.withLock { (acknowledged, releasing) } }
    var compacted: Int { lock.withLock { compactions } }
}

@Suite(.serialized, .consistencyChecked) struct CrashRecoveryTests {
    /// SIGKILL a writer at random points, 25 times; after each, the store must recover with every
    /// acknowledged blob intact (byte-exact against independently regenerated data) and verify clean.
    @Test func acknowledgedBlobsSurviveSIGKILL() async throws {
        let outcome = try await killRepeatedly(rounds: 25, gc: false)
        #expect(outcome.kills >= 20)
        #expect(outcome.survivors > 20, "the workload acknowledged too little to prove anything")
    }

    /// The same while GC compacts packs, in the writer's process and in a second `granary gc`
    /// process that is killed too; afterwards GC finishes the interrupted work.
    @Test func acknowledgedBlobsSurviveSIGKILLDuringGC() async throws {
        let outcome = try await killRepeatedly(rounds: 20, gc: true)
        #expect(outcome.kills >= 18)
        #expect(outcome.survivors > 15, "the workload acknowledged too little to prove anything")
        #expect(outcome.compactions >= 5, "GC compacted too little to prove anything")
    }

    /// Runs `rounds` rounds of: start `granary debug ingest-loop` (with `--gc`: plus a second
    /// `granary gc` process), kill it at a random moment, reopen as the lock holder, verify, and
    /// read back what was acknowledged.
    func killRepeatedly(rounds: Int, gc: Bool) async throws -> (kills: Int, survivors: Int, compactions: Int) {
        let executable = try granaryExecutable()
        let data = TemporaryDirectory("granary-crash").path
        var random = SystemRandomNumberGenerator()
        var survivors: [String: Acknowledged] = [:]
        var released: Set<String> = []
        var kills = 0
        var compactions = 0
        var environment = ProcessInfo.processInfo.environment
        // Small packs fill up and are let go of, so a second process finds packs to compact.
        if gc { environment["GRANARY_STORE_PACK_SIZE"] = String(1 << 20) }
        for round in 0..<rounds {
            let child = Process()
            child.executableURL = executable
            child.arguments =
                ["debug", "ingest-loop", "--data", data, "--seed", String(round + 1), "--max-size", String(2 << 20), "--seconds", "20"]
                + (gc ? ["--gc"] : [])
            child.environment = environment
            let pipe = Pipe()
            child.standardOutput = pipe
            child.standardError = FileHandle.nullDevice
            let collector = LineCollector()
            pipe.fileHandleForReading.readabilityHandler = { handle in collector.consume(handle.availableData) }
            try child.run()
            var second: pid_t?
            if gc && round % 2 == 1 {
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...300, using: &random)))
                second = try spawn(executable.path, ["gc", "--data", data, "--grace", "0", "--json"], environment: environment)
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...900, using: &random)))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            if let second {
                kill(second, SIGKILL)
                var status: Int32 = 0
                waitpid(second, &status, 0)
            }
            pipe.fileHandleForReading.readabilityHandler = nil
            collector.consume(pipe.fileHandleForReading.readDataToEndOfFile())
            if child.terminationReason == .uncaughtSignal { kills += 1 }
            let (acks, releasing) = collector.snapshot
            compactions += collector.compacted
            for ack in acks { survivors[ack.blob] = ack }
            released.formUnion(releasing)
            // Blobs acknowledged this round are read back now; all of them again after the last round.
            let fresh = Set(acks.map(\.blob))

            // Reopen as the lock holder: recovery runs, then everything acknowledged must read back.
            let store = try BlobStore(directory: DataDirectory(path: data, access: .exclusive))
            let problems = try await store.verify()
            #expect(problems.isEmpty, "round \(round): \(problems.prefix(5))")
            let last = round == rounds - 1
            if last && gc {
                var options = GCOptions()
                options.grace = 0
                options.threshold = 0.000_001
                let report = try await store.collectGarbage(options)
                #expect(report.errors.isEmpty, "\(report.errors)")
                #expect(try await store.verify(scrub: true).isEmpty)
                // Nothing holds a pack open now: every dead byte is reclaimed.
                #expect(try store.stats().deadBytes == 0)
            }
            for (id, ack) in survivors where !released.contains(id) && (fresh.contains(id) || last) {
                var generator = DataGenerator(seed: ack.seed, size: ack.size, dupRatio: ack.dup)
                let expected = StreamingDigest(.sha256)
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
                defer { buffer.deallocate() }
                while !generator.isFinished {
                    let n = generator.fill(buffer)
                    expected.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
                let stored = StreamingDigest(.sha256)
                try await store.read(SHA256Key(hex: id)!) { stored.update($0) }
                let want = expected.finalize().hex
                #expect(want == ack.sha256, "the child reported a wrong digest for \(id)")
                #expect(stored.finalize().hex == want, "round \(round): blob \(id) does not read back")
            }
        }
        return (kills, survivors.count, compactions)
    }
}

/// Starts `path` with `arguments`, output discarded, without Foundation's `Process` (whose
/// reaping of a child that exits at once has been seen to hang `waitUntilExit` here); the
/// caller reaps it with `waitpid`.
func spawn(_ path: String, _ arguments: [String], environment: [String: String]) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for p in argv { free(p) }
        for p in envp { free(p) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
    guard rc == 0 else { throw CrashTestError(message: "posix_spawn \(path) failed: \(rc)") }
    return pid
}
