import GranaryLMDB
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A pack file open for appending, leased to one ingest session at a time.
///
/// Leasing instead of sharing keeps appends lock-free and keeps one blob's chunks next to each
/// other on disk, which makes its reads sequential.
final class OpenPack: @unchecked Sendable {
    // Safe because a pack is used by one session at a time: the PackSet hands it out under its
    // mutex and takes it back only when that session is done.
    let id: UInt32
    let appender: PackAppender
    /// Bytes up to here are referenced by committed transactions; recovery truncates past it.
    var committedLength: Int

    init(id: UInt32, file: FileDescriptor, committedLength: Int) {
        self.id = id
        self.appender = PackAppender(file: file, offset: committedLength)
        self.committedLength = committedLength
    }

    /// Where the next record goes.
    var writeOffset: Int { appender.position }
}

/// The pack files of a store: leasing packs to writers, read descriptors for readers, recovery.
final class PackSet: Sendable {
    let directory: String
    let sizeLimit: Int
    /// Whether new packs are written with `O_DIRECT` (``PackWriteMode/direct``).
    let direct: Bool
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var idle: [OpenPack] = []
        var nextID: UInt32 = 1
        var readers: [UInt32: FileDescriptor] = [:]
        var readerGeneration: UInt64 = 0
    }

    /// - Parameter highWater: the highest pack id ever committed (GC deletes packs, and an id is
    ///   never reused: a reader in another process may still hold a chunk location naming it).
    init(directory: String, sizeLimit: Int, direct: Bool, highWater: UInt32 = 0) throws(StoreError) {
        self.directory = directory
        self.sizeLimit = sizeLimit
        self.direct = direct
        let highest = max(try Self.packFiles(in: directory).map(\.id).max() ?? 0, highWater)
        state = Mutex(State(nextID: highest + 1))
    }

    /// The id the next new pack would take.
    var nextID: UInt32 { state.withLock { $0.nextID } }

    /// Spool recovery, for the holder of the exclusive lock: a spooled pack left by a crash was
    /// either committed (then its object store holds it, the spool copy is redundant) or never
    /// referenced; either way it goes. Packs locked by a live process are that process's.
    func emptySpool() throws -> [String] {
        var actions: [String] = []
        for (id, name) in try Self.packFiles(in: directory) {
            guard try lockForMaintenance(id) != nil else { continue }
            unlink(path(of: id))
            actions.append("removed spooled \(name)")
        }
        return actions
    }

    /// The packs on disk, by id.
    static func packFiles(in directory: String) throws(StoreError) -> [(id: UInt32, name: String)] {
        guard let dir = opendir(directory) else { throw StoreError.system("opendir", path: directory, errno: errno) }
        defer { closedir(dir) }
        var result: [(UInt32, String)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let id = PackFormat.packID(fileName: name) { result.append((id, name)) }
        }
        return result.sorted { $0.0 < $1.0 }
    }

    func path(of id: UInt32) -> String { directory + "/" + PackFormat.fileName(id) }

    /// A pack with room, reused when one is idle, else a new file.
    func lease() throws -> OpenPack {
        if let pack = state.withLock({ $0.idle.popLast() }) { return pack }
        while true {
            let id = state.withLock { state -> UInt32 in
                defer { state.nextID += 1 }
                return state.nextID
            }
            // Another process (a maintenance run beside the server) may have taken this id.
            guard let file = try FileDescriptor.createExclusive(path(of: id), direct: direct) else { continue }
            // The lock marks the pack as being appended to; if recovery or GC elsewhere took it
            // (or removed the new file) between create and lock, leave this id alone.
            guard try file.tryLockExclusive(), file.isStillLinked() else { continue }
            try FileDescriptor.syncDirectory(directory)
            let pack = OpenPack(id: id, file: file, committedLength: 0)
            // The file header goes out with the first records, at the first commit.
            try PackFormat.fileHeader(packID: id).withUnsafeBytes { h in try pack.appender.append([h]) }
            return pack
        }
    }

    /// Takes a pack back after its session committed (`committed`) or failed; a failed
    /// session's bytes are cut off so the next writer appends right after committed data.
    func giveBack(_ pack: OpenPack, committed: Bool) {
        if committed {
            pack.committedLength = pack.writeOffset
        } else if pack.committedLength == 0 {
            // Never committed, so no row names it: remove it (cutting it back would cut its file
            // header too). Should that fail, recovery or GC removes it later.
            pack.appender.releaseBuffers()
            unlink(path(of: pack.id))
            return
        } else {
            do {
                try pack.appender.discard(to: pack.committedLength)
            } catch {
                pack.appender.releaseBuffers()
                // The pack cannot be cut back; retire it. Its tail is unreferenced and recovery trims it.
                return
            }
        }
        pack.appender.releaseBuffers()
        if pack.writeOffset < sizeLimit {
            state.withLock { $0.idle.append(pack) }
        }
    }

    /// Lets go of idle packs (closing their append descriptors and so their locks), which
    /// makes them eligible for compaction; new uploads start new packs.
    func retireIdle() {
        let retired = state.withLock { state -> [OpenPack] in
            defer { state.idle = [] }
            return state.idle
        }
        for pack in retired { pack.appender.releaseBuffers() }
    }

    /// The ids of packs this process holds open for appending (locked, so never compacted).
    var heldForAppend: Set<UInt32> { state.withLock { Set($0.idle.map(\.id)) } }

    /// Closes cached read descriptors of packs that no longer exist, once per change of the
    /// store's pack generation (bumped by every compaction commit, in any process). A reader
    /// in the middle of a read keeps its own reference, so its descriptor stays open until done.
    func dropReaders(generation: UInt64, keep: (UInt32) throws -> Bool) rethrows {
        let stale = state.withLock { state -> [UInt32]? in
            guard state.readerGeneration != generation else { return nil }
            return Array(state.readers.keys)
        }
        guard let stale else { return }
        let gone = try stale.filter { try !keep($0) }
        state.withLock { state in
            for id in gone { state.readers[id] = nil }
            state.readerGeneration = generation
        }
    }

    /// Forgets the cached read descriptor of pack `id` (after this process unlinked it).
    func dropReader(_ id: UInt32) {
        _ = state.withLock { $0.readers.removeValue(forKey: id) }
    }

    /// Opens pack `id` and takes its lock for maintenance (compaction, repair); nil when a live
    /// process holds it (it is being appended to or compacted) or the file is gone.
    func lockForMaintenance(_ id: UInt32, writable: Bool = false) throws(StoreError) -> FileDescriptor? {
        let file: FileDescriptor
        do throws(StoreError) {
            file = try FileDescriptor.open(path(of: id), writable: writable)
        } catch  where error.code == .notFound {
            return nil
        }
        guard try file.tryLockExclusive(), file.isStillLinked() else { return nil }
        return file
    }

    /// Unlinks pack `id`, whose records no committed row references any more, and forgets its
    /// reader. The caller holds its maintenance lock.
    func remove(_ id: UInt32) throws(StoreError) {
        if unlink(path(of: id)) != 0 && errno != ENOENT { throw StoreError.system("unlink", path: path(of: id), errno: errno) }
        dropReader(id)
        try FileDescriptor.syncDirectory(directory)
    }

    /// A read-only descriptor for pack `id`, opened once and cached.
    func reader(for id: UInt32) throws(StoreError) -> FileDescriptor {
        if let fd = state.withLock({ $0.readers[id] }) { return fd }
        let fd = try FileDescriptor.open(path(of: id), writable: false)
        return state.withLock { state in
            if let existing = state.readers[id] { return existing }
            state.readers[id] = fd
            return fd
        }
    }

    /// Crash recovery, for the holder of the exclusive lock only: cuts every pack back to its
    /// committed length and removes pack files no committed transaction ever referenced.
    /// - Returns: what was done, one line per action, for the log.
    func recover(environment: Environment, keyspace: Keyspace) throws -> [String] {
        var actions: [String] = []
        let committed: [UInt32: Int] = try environment.read { txn in
            var result: [UInt32: Int] = [:]
            try txn.forEach(keyspace.packs) { key, value in
                let id = UInt32(bigEndian: key.loadUnaligned(as: UInt32.self))
                result[id] = try PackRow(value).committedLength
                return true
            }
            return result
        }
        for (id, name) in try Self.packFiles(in: directory) {
            let path = directory + "/" + name
            // A pack locked by a live process (a maintenance run that outlived a server, a CLI
            // put beside it) is that process's to finish.
            guard let file = try lockForMaintenance(id, writable: true) else { continue }
            // Only a lock holder commits rows for a pack: under the lock, a fresh look is final.
            let length =
                try committed[id]
                ?? environment.read { txn in
                    try Keyspace.packKey(id).withUnsafeBytes { k in try txn.withValue(keyspace.packs, k) { try PackRow($0).committedLength } }
                }
            guard let length else {
                unlink(path)
                actions.append("removed \(name): no committed record references it")
                continue
            }
            let size = try file.size()
            if size > length {
                try file.truncate(to: length)
                try file.sync()
                actions.append("truncated \(name) from \(size) to its committed \(length) bytes")
            } else if size < length {
                actions.append("\(name) is \(size) bytes, shorter than its committed \(length): data lost outside Granary")
            }
        }
        return actions
    }
}
