import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// A node's read cache of pack objects: each pack is a sparse file in `directory`, filled by
/// extents (8 MiB by default: object stores answer ranged GETs of that size well) as reads need
/// them, and evicted whole, least recently used first, once the cache holds more than
/// `maxBytes`. Packs never change once written, so nothing in it is ever invalidated. A node's
/// own new packs are adopted whole (written through), so reading right after writing is local.
///
/// Missing extents of one request are fetched as runs of adjacent extents, one ranged GET a run
/// (at most `maxRun` extents), up to `parallel` GETs at a time; two readers that need the same
/// extent share its fetch. The cache starts empty: it is a cache, and a bitmap is not worth
/// keeping across restarts.
package actor PackCache {
    let directory: String
    let store: any ObjectStore
    package let maxBytes: Int
    package let extent: Int
    let parallel: Int
    let maxRun = 4

    struct Entry {
        var size: Int
        /// Which extents are in the file.
        var present: [Bool]
        var lastUse: UInt64
        /// Readers between ``file(for:range:size:)`` and ``release(_:)``: not evicted meanwhile.
        var pins = 0
        var cachedBytes: Int
        /// Tells this entry's file from an earlier one of the same pack (evicted meanwhile):
        /// a fetch fills only the file of the entry that started it.
        var generation: UInt64
    }
    var entries: [String: Entry] = [:]
    var inFlight: [String: Task<Void, any Error>] = [:]
    var clock: UInt64 = 0
    package private(set) var totalBytes = 0
    /// Ranged GETs sent (for tests and statistics).
    package private(set) var fetches = 0

    package init(directory: String, store: any ObjectStore, maxBytes: Int, extent: Int = 8 << 20, parallel: Int = 4) throws {
        self.directory = directory
        self.store = store
        self.maxBytes = maxBytes
        self.extent = extent
        self.parallel = parallel
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The cache file of `name`, from the object's name (which may hold '/').
    package nonisolated func path(of name: String) -> String {
        directory + "/" + name.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
    }

    /// The local file of pack `name` (`size` bytes), holding at least `range`; pinned until
    /// ``release(_:)``, so eviction leaves it alone while it is read.
    package func file(for name: String, range: Range<Int>, size: Int) async throws -> String {
        guard range.lowerBound >= 0, range.upperBound <= size else {
            throw ObjectStoreError(.corrupt, "bytes \(range) are not within pack \(name) of \(size) bytes")
        }
        clock += 1
        var entry =
            entries[name]
            ?? Entry(size: size, present: Array(repeating: false, count: (size + extent - 1) / extent), lastUse: 0, cachedBytes: 0, generation: clock)
        if entries[name] == nil {
            guard FileManager.default.createFile(atPath: path(of: name), contents: nil) else {
                throw ObjectStoreError(.unavailable, "the pack cache cannot create \(path(of: name))")
            }
        }
        entry.lastUse = clock
        entry.pins += 1
        entries[name] = entry
        do {
            try await fill(name, extents: range.isEmpty ? 0..<0 : (range.lowerBound / extent)..<((range.upperBound - 1) / extent + 1))
        } catch {
            release(name)
            throw error
        }
        evictIfNeeded()
        return path(of: name)
    }

    /// A read-only descriptor of the cache file of pack `name` (`size` bytes), holding at least
    /// `range`, opened while the pack is pinned: eviction may unlink the file afterwards, the
    /// descriptor keeps its bytes. The caller closes it.
    ///
    /// A reader that holds a descriptor of the file of generation `reusing` keeps it when the
    /// file is still that one (nil descriptor answered): its bytes are there, and its mapping
    /// is not made again.
    package func open(_ name: String, range: Range<Int>, size: Int, reusing: UInt64? = nil) async throws -> (fd: Int32?, generation: UInt64) {
        let path = try await file(for: name, range: range, size: size)
        defer { release(name) }
        guard let generation = entries[name]?.generation else { throw ObjectStoreError(.unavailable, "the pack cache lost \(name)") }
        if generation == reusing { return (nil, generation) }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ObjectStoreError(.unavailable, "the pack cache cannot open \(path): errno \(errno)") }
        return (fd, generation)
    }

    /// Ends a read that ``file(for:range:size:)`` began.
    package func release(_ name: String) {
        entries[name]?.pins -= 1
        evictIfNeeded()
    }

    /// Takes a pack this node wrote (the sealed file at `file`, `size` bytes) as fully cached.
    package func adopt(_ name: String, file: String, size: Int) throws {
        let target = path(of: name)
        try? FileManager.default.removeItem(atPath: target)
        guard link(file, target) == 0 || (try? FileManager.default.copyItem(atPath: file, toPath: target)) != nil else {
            throw ObjectStoreError(.unavailable, "the pack cache cannot take \(file)")
        }
        clock += 1
        let count = (size + extent - 1) / extent
        if let old = entries[name] { totalBytes -= old.cachedBytes }
        entries[name] = Entry(
            size: size, present: Array(repeating: true, count: count), lastUse: clock, pins: entries[name]?.pins ?? 0, cachedBytes: size,
            generation: clock)
        totalBytes += size
        evictIfNeeded()
    }

    /// Drops `name` (its object was deleted): a reader holding its file keeps its bytes.
    package func forget(_ name: String) {
        guard let entry = entries.removeValue(forKey: name) else { return }
        unlink(path(of: name))
        totalBytes -= entry.cachedBytes
    }

    /// Whether every byte of `name` is local.
    package func isComplete(_ name: String) -> Bool { entries[name]?.present.allSatisfy { $0 } ?? false }

    /// Fetches the missing extents of `wanted`: runs of adjacent ones, one GET a run, at most
    /// `parallel` at a time; extents another reader is fetching are waited for, not fetched again.
    /// Should such a shared fetch fail (it may have begun while the store was down, before this
    /// read), the read tries once more with fetches of its own rather than inherit that failure.
    func fill(_ name: String, extents wanted: Range<Int>) async throws {
        var sharedFailure: (any Error)?
        for _ in 0..<2 {
            guard let entry = entries[name] else { throw ObjectStoreError(.unavailable, "the pack cache lost \(name) while reading it") }
            var shared: [Task<Void, any Error>] = []
            var runs: [Range<Int>] = []
            var index = wanted.lowerBound
            while index < wanted.upperBound {
                if entry.present[index] {
                    index += 1
                    continue
                }
                if let task = inFlight[key(name, entry.generation, index)] {
                    shared.append(task)
                    index += 1
                    continue
                }
                var end = index + 1
                while end < wanted.upperBound, end - index < maxRun, !entry.present[end], inFlight[key(name, entry.generation, end)] == nil {
                    end += 1
                }
                runs.append(index..<end)
                index = end
            }
            for batch in stride(from: 0, to: runs.count, by: parallel) {
                let tasks = runs[batch..<min(batch + parallel, runs.count)].map { run -> Task<Void, any Error> in
                    let task = Task { try await self.fetch(name, generation: entry.generation, extents: run, size: entry.size) }
                    for extentIndex in run { inFlight[key(name, entry.generation, extentIndex)] = task }
                    return task
                }
                // A failure of its own is the read's answer: the store is down or refuses.
                for task in tasks { try await task.value }
            }
            sharedFailure = nil
            for task in shared {
                do { try await task.value } catch { sharedFailure = error }
            }
            if wanted.allSatisfy({ entries[name]?.present[$0] == true }) { return }
        }
        throw sharedFailure ?? ObjectStoreError(.unavailable, "the pack cache could not fill \(name)")
    }

    nonisolated func key(_ name: String, _ generation: UInt64, _ index: Int) -> String { "\(name)#\(generation)#\(index)" }

    /// One ranged GET of `extents`, written into the pack's file, then marked present, unless
    /// the entry was evicted meanwhile (its file is gone, whatever took its name is another).
    func fetch(_ name: String, generation: UInt64, extents: Range<Int>, size: Int) async throws {
        defer { for index in extents { inFlight[key(name, generation, index)] = nil } }
        let bytes = extents.lowerBound * extent..<min(extents.upperBound * extent, size)
        fetches += 1
        let fd = Glibc.open(path(of: name), O_WRONLY)
        guard fd >= 0 else { throw ObjectStoreError(.unavailable, "the pack cache cannot write \(path(of: name)): errno \(errno)") }
        defer { close(fd) }
        try await store.copy(name, range: bytes, into: fd, path: path(of: name))
        guard var entry = entries[name], entry.generation == generation else { return }
        for index in extents where !entry.present[index] {
            entry.present[index] = true
            let length = min(extent, size - index * extent)
            entry.cachedBytes += length
            totalBytes += length
        }
        entries[name] = entry
    }

    /// Drops whole packs, least recently used first, until the cache fits (pinned ones stay).
    func evictIfNeeded() {
        guard totalBytes > maxBytes else { return }
        for (name, entry) in entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) where entry.pins == 0 {
            guard totalBytes > maxBytes else { return }
            unlink(path(of: name))
            totalBytes -= entry.cachedBytes
            entries[name] = nil
        }
    }
}
