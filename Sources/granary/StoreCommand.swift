import ArgumentParser
import Foundation
import GranaryCodec
import GranaryServer
import GranaryStore

#if canImport(Glibc)
    import Glibc
#endif

/// `granary store put|get|rm`: the chunk store without the APIs, for operators and benchmarks.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Put, get and remove blobs in the chunk store directly.",
        subcommands: [Put.self, Get.self, Remove.self]
    )

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "put",
            abstract: "Store files as blobs; print one JSON report per file on stdout."
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "Whole-object digests: md5, sha1, sha256, sha384, sha512 (comma-separated) or none.")
        var digests = "sha256"
        @Argument(help: "Files to store.") var files: [String]

        struct Report: Encodable {
            let file: String
            let blob: String
            let size: Int
            let digests: [String: String]
            let chunks: Int
            let newChunks: Int
            let bytesWritten: Int
            let seconds: Double
            enum CodingKeys: String, CodingKey {
                case file, blob, size, digests, chunks, seconds
                case newChunks = "new_chunks"
                case bytesWritten = "bytes_written"
            }
        }

        func validate() throws {
            do { _ = try DigestAlgorithm.parseList(digests) } catch { throw ValidationError("\(error)") }
            if files.isEmpty { throw ValidationError("name at least one file") }
        }

        func run() async throws {
            let settings = try await Settings.load(common: common)
            let logger = makeLogger(level: settings.logLevel)
            let store = try openStore(settings, logger: logger)
            let algorithms = try DigestAlgorithm.parseList(digests)
            for file in files {
                let fd = open(file, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw StoreError(.notFound, "cannot open \(file): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
                let session = store.beginIngest(digests: algorithms)
                do {
                    while true {
                        let n = try await session.fill { space in
                            let got = Glibc.read(fd, space.baseAddress, space.count)
                            guard got >= 0 else { throw StoreError(.io, "read(\(file)) failed: \(String(cString: strerror(errno)))") }
                            return got
                        }
                        if n == 0 { break }
                    }
                } catch {
                    await session.abort()
                    throw error
                }
                let result = try await store.commit(try await session.finish())
                try printJSON(
                    Report(
                        file: file,
                        blob: result.blob.id.hex,
                        size: result.blob.size,
                        digests: Dictionary(uniqueKeysWithValues: result.blob.digests.map { ($0.key.rawValue, $0.value.hex) }),
                        chunks: result.blob.chunks,
                        newChunks: result.newChunks,
                        bytesWritten: result.bytesWritten,
                        seconds: (result.seconds * 1e6).rounded() / 1e6
                    ))
                FileHandleOutput.standardError(
                    "\(file): blob \(result.blob.id.hex.prefix(16))…, \(result.blob.size) bytes in \(result.blob.chunks) chunks, "
                        + "\(result.newChunks) new (\(result.bytesWritten) bytes written), "
                        + "\(mbps(bytes: result.blob.size, seconds: result.seconds)) MB/s")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Write a blob (or a byte range of it, START-END inclusive as in HTTP) to stdout."
        )
        @OptionGroup var common: CommonOptions
        @Argument(help: "The blob id (64 hex digits).") var blob: String
        @Option(help: "Bytes START-END (inclusive), or START- for the rest.") var range: String?

        func validate() throws {
            if SHA256Key(hex: blob) == nil { throw ValidationError("a blob id is 64 hex digits, not '\(blob)'") }
            if let range, ByteRange(range) == nil { throw ValidationError("--range takes START-END or START-, not '\(range)'") }
        }

        func run() async throws {
            let settings = try await Settings.load(common: common)
            let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
            // Safe because validate() checked both.
            let id = SHA256Key(hex: blob)!
            var bytes: Range<Int>?
            if let range {
                guard let info = try store.info(id) else { throw StoreError(.notFound, "no blob \(blob)") }
                bytes = try ByteRange(range)!.resolve(size: info.size)
            }
            try await store.read(id, range: bytes) { piece in
                var offset = 0
                while offset < piece.count {
                    let n = write(STDOUT_FILENO, piece.baseAddress! + offset, piece.count - offset)
                    guard n > 0 else { throw StoreError(.io, "write to stdout failed: \(String(cString: strerror(errno)))") }
                    offset += n
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Drop one holder of a blob; its chunks' space becomes reclaimable when none is left."
        )
        @OptionGroup var common: CommonOptions
        @Argument(help: "The blob id (64 hex digits).") var blob: String

        func validate() throws {
            if SHA256Key(hex: blob) == nil { throw ValidationError("a blob id is 64 hex digits, not '\(blob)'") }
        }

        func run() async throws {
            let settings = try await Settings.load(common: common)
            let store = try openStore(settings, logger: makeLogger(level: settings.logLevel))
            guard try await store.release(SHA256Key(hex: blob)!) else {
                throw StoreError(.notFound, "no blob \(blob)")
            }
        }
    }
}

/// `START-END` (inclusive) or `START-`, as in an HTTP Range header.
struct ByteRange {
    let start: Int
    let end: Int?

    init?(_ text: String) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int(parts[0]), start >= 0 else { return nil }
        if parts[1].isEmpty {
            end = nil
        } else {
            guard let end = Int(parts[1]), end >= start else { return nil }
            self.end = end
        }
        self.start = start
    }

    func resolve(size: Int) throws -> Range<Int> {
        guard start < size else { throw StoreError(.invalidArgument, "range starts at \(start), past the blob's \(size) bytes") }
        return start..<min(size, (end ?? size - 1) + 1)
    }
}
