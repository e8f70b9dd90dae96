import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The on-disk home of one store, and the lock that says who may repair it.
///
/// ```
/// <root>/
///   LOCK        flock(2)ed exclusively by `serve` (or a CLI run on a stopped store); holds its pid
///   index/      the LMDB environment (data.mdb, lock.mdb)
///   packs/      append-only pack files 00000001.pack, 00000002.pack, …
///   tmp/        scratch, emptied by the lock holder at open
/// ```
///
/// Crash recovery (truncating pack tails, emptying `tmp/`) runs only in the process that holds
/// the exclusive lock, so a maintenance run beside a live server never cuts off the server's
/// unfinished writes.
package final class DataDirectory: Sendable {
    /// How to open the directory.
    package enum Access: Sendable {
        /// Take the exclusive lock or fail: `serve`, and anything that repairs.
        case exclusive
        /// Take the exclusive lock when free; otherwise share the store with the lock holder
        /// (a maintenance run beside a live server) and never repair.
        case exclusiveIfFree
    }

    package let root: String
    /// Whether this process holds the exclusive lock (and so may run recovery).
    package let isExclusive: Bool
    private let lockDescriptor: Int32

    package var indexPath: String { root + "/index" }
    package var packsPath: String { root + "/packs" }
    package var tmpPath: String { root + "/tmp" }
    package var lockPath: String { root + "/LOCK" }

    /// Opens (creating when missing) the data directory at `path`.
    ///
    /// #### Errors
    /// - ``StoreError/Code-swift.struct/locked`` when `access` is `.exclusive` and another process
    ///   holds the lock; the message names its pid.
    /// - ``StoreError/Code-swift.struct/io`` when a folder cannot be created.
    package init(path: String, access: Access) throws(StoreError) {
        let root = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        for dir in [root, root + "/index", root + "/packs", root + "/tmp"] {
            if mkdir(dir, 0o755) != 0 && errno != EEXIST {
                throw StoreError.system("mkdir", path: dir, errno: errno)
            }
        }
        let lockPath = root + "/LOCK"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.system("open", path: lockPath, errno: errno) }
        let exclusive = flock(fd, LOCK_EX | LOCK_NB) == 0
        if !exclusive {
            let lockErrno = errno
            let holder = Self.readPID(fd)
            if access == .exclusive || lockErrno != EWOULDBLOCK {
                close(fd)
                let who = holder.map { "process \($0)" } ?? "another process"
                throw StoreError(
                    .locked, "data directory \(root) is in use by \(who) (\(lockPath) is locked); stop it or use another --data directory")
            }
        } else {
            Self.writePID(fd)
        }
        if exclusive {
            Self.emptyDirectory(root + "/tmp")
        }
        self.root = root
        self.lockDescriptor = fd
        self.isExclusive = exclusive
    }

    deinit {
        // Closing the descriptor releases the flock.
        close(lockDescriptor)
    }

    private static func writePID(_ fd: Int32) {
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingNewlines())
    }

    /// Removes the entries of `path`: scratch files, and the read caches of processes that ran
    /// beside the lock holder (one folder each).
    private static func emptyDirectory(_ path: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }
}

extension String {
    fileprivate func trimmingNewlines() -> String {
        String(self.filter { !$0.isNewline && !$0.isWhitespace })
    }
}
