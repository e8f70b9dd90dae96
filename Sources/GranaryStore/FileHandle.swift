import CGranaryFileIO
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file descriptor with the few calls the store needs, each turning errno into a
/// ``StoreError`` that names the call and the path.
///
/// Writes go through ``FaultInjection`` in tests that simulate a power cut.
final class FileDescriptor: @unchecked Sendable {
    // Safe because the descriptor number never changes after init; concurrent preads are
    // allowed by POSIX, and writers are serialized by whoever leases the file.
    let fd: Int32
    let path: String
    /// Whether writes bypass the page cache (then offsets, lengths and buffers are block aligned).
    let isDirect: Bool

    /// An `O_DIRECT` descriptor of the same file for ``readDirect(into:at:scratch:)``, opened at
    /// its first use (-1: not yet; -2: the file system refuses `O_DIRECT`).
    private let directFD = Mutex<Int32>(-1)
    /// Read-only mappings of the file (see ``mapped(through:)``), newest last; unmapped at deinit.
    private let mappings = Mutex<[Mapping]>([])

    private struct Mapping {
        var address: UInt
        var length: Int
    }

    private init(fd: Int32, path: String, isDirect: Bool = false) {
        self.fd = fd
        self.path = path
        self.isDirect = isDirect
    }

    deinit {
        for mapping in mappings.withLock({ $0 }) {
            munmap(UnsafeMutableRawPointer(bitPattern: mapping.address), mapping.length)
        }
        let direct = directFD.withLock { $0 }
        if direct >= 0 { close(direct) }
        close(fd)
    }

    /// Takes ownership of descriptor `fd`, open read-only on `path`.
    static func adopting(_ fd: Int32, path: String) -> FileDescriptor { FileDescriptor(fd: fd, path: path) }

    /// Opens an existing file.
    static func open(_ path: String, writable: Bool) throws(StoreError) -> FileDescriptor {
        let fd = Glibc.open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw StoreError(.notFound, "\(path) does not exist") }
            throw StoreError.system("open", path: path, errno: code)
        }
        return FileDescriptor(fd: fd, path: path)
    }

    /// Creates a new file, returning nil when it already exists. With `direct`, writes bypass
    /// the page cache (`O_DIRECT`) where the file system allows it (not tmpfs); `isDirect` says.
    static func createExclusive(_ path: String, direct: Bool = false) throws(StoreError) -> FileDescriptor? {
        var fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? oDirect : 0), 0o644)
        if fd < 0 && direct && errno == EINVAL {
            fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { return FileDescriptor(fd: fd, path: path, isDirect: false) }
        }
        if fd < 0 {
            if errno == EEXIST { return nil }
            throw StoreError.system("open(O_CREAT|O_EXCL)", path: path, errno: errno)
        }
        return FileDescriptor(fd: fd, path: path, isDirect: direct)
    }

    /// Opens an existing file for appending with `O_DIRECT` when the file system allows it.
    static func openForAppend(_ path: String) throws(StoreError) -> FileDescriptor {
        var fd = Glibc.open(path, O_RDWR | O_CLOEXEC | oDirect)
        if fd >= 0 { return FileDescriptor(fd: fd, path: path, isDirect: true) }
        fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.system("open", path: path, errno: errno) }
        return FileDescriptor(fd: fd, path: path, isDirect: false)
    }

    /// The file's size from fstat.
    func size() throws(StoreError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StoreError.system("fstat", path: path, errno: errno) }
        return Int(st.st_size)
    }

    /// Writes all of `buffers`, in order, at `offset` (pwritev, retried on short writes).
    func write(_ buffers: [UnsafeRawBufferPointer], at offset: Int) throws(StoreError) {
        var remaining = buffers.filter { $0.count > 0 }
        var position = offset
        while !remaining.isEmpty {
            if let fault = FaultInjection.current, let error = fault.beforeWrite(path: path, offset: position, buffers: remaining) {
                throw error
            }
            var iov = remaining.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
            let n = pwritev(fd, &iov, Int32(iov.count), off_t(position))
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.system("pwritev", path: path, errno: errno)
            }
            position += n
            var consumed = n
            while consumed > 0, let first = remaining.first {
                if consumed >= first.count {
                    consumed -= first.count
                    remaining.removeFirst()
                } else {
                    remaining[0] = UnsafeRawBufferPointer(rebasing: first[consumed...])
                    consumed = 0
                }
            }
        }
    }

    /// Reads exactly `buffer.count` bytes at `offset`; a short file is a ``StoreError/Code-swift.struct/corrupt`` error.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StoreError) {
        try readFully(fd, into: buffer, at: offset, atLeast: buffer.count, call: "pread")
    }

    /// `O_DIRECT` reads from this size on are split in two reads issued at once.
    static let splitDirectReads = 2 << 20

    /// Reads exactly `buffer.count` bytes at `offset` with `O_DIRECT` (the page cache neither
    /// used nor filled) through `scratch`, block-aligned and at least `buffer.count` + 8 KiB,
    /// then copies them out. Falls back to ``read(into:at:)`` where `O_DIRECT` is refused.
    func readDirect(into buffer: UnsafeMutableRawBufferPointer, at offset: Int, scratch: UnsafeMutableRawBufferPointer) throws(StoreError) {
        let direct = directFD.withLock { fd -> Int32 in
            if fd == -1 {
                let opened = Glibc.open(path, O_RDONLY | O_CLOEXEC | oDirect)
                fd = opened >= 0 ? opened : -2
            }
            return fd
        }
        guard direct >= 0 else { return try read(into: buffer, at: offset) }
        let block = PackAppender.blockSize
        let start = offset / block * block
        let length = (offset + buffer.count - start + block - 1) / block * block
        precondition(length <= scratch.count, "scratch of \(scratch.count) bytes for a read of \(length)")
        // Whole blocks are asked for; the file may end (block-aligned) before the last one.
        let aligned = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<length])
        let needed = offset + buffer.count - start
        if length >= Self.splitDirectReads {
            // Two reads in flight: one at a time leaves this disk at 0.7-0.9 GB/s, two reach 1.2-1.4.
            let half = length / 2 / block * block
            // (offset into the scratch, bytes asked, bytes that must come), per read.
            let parts = [(0, half, half), (half, length - half, needed - half)]
            let failure = Mutex<StoreError?>(nil)
            let base = UInt(bitPattern: aligned.baseAddress!)  // an address, to cross into the two threads
            DispatchQueue.concurrentPerform(iterations: parts.count) { part in
                let (at, count, atLeast) = parts[part]
                let into = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: base)! + at, count: count)
                do throws(StoreError) {
                    try readFully(direct, into: into, at: start + at, atLeast: atLeast, call: "pread(O_DIRECT)")
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
        } else {
            try readFully(direct, into: aligned, at: start, atLeast: needed, call: "pread(O_DIRECT)")
        }
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[(offset - start)..<(offset - start + buffer.count)]))
    }

    /// Reads into `buffer` at `offset` from `descriptor` until at least `atLeast` bytes are in
    /// (EINTR retried); ending sooner is a ``StoreError/Code-swift.struct/corrupt`` error.
    private func readFully(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, atLeast: Int, call: String
    ) throws(StoreError) {
        var done = 0
        while done < atLeast {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.system(call, path: path, errno: errno)
            }
            if n == 0 {
                throw StoreError(.corrupt, "\(path) ends at \(offset + done), expected \(atLeast - done) more bytes at offset \(offset)")
            }
            done += n
        }
    }

    /// Whether all of `length` bytes at `offset` are in the page cache (false when the kernel
    /// cannot tell). Nothing is read: a cold range stays cold.
    func isCached(at offset: Int, length: Int) -> Bool {
        guard let cached = cachedBytes(at: offset, length: length) else { return false }
        return cached >= offset % Int(getpagesize()) + length
    }

    /// The file's bytes up to at least `end`, mapped read-only and kept until the descriptor
    /// closes (nil when mapping fails). At least 128 MiB are mapped, so a pack growing under
    /// appends is rarely remapped; only bytes below the file's size may be touched (beyond it
    /// is SIGBUS), which holds for committed records.
    func mapped(through end: Int) -> UnsafeRawBufferPointer? {
        mappings.withLock { list -> UnsafeRawBufferPointer? in
            if let last = list.last, last.length >= end {
                return UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: last.address), count: last.length)
            }
            let length = max(end, 128 << 20, list.last.map { $0.length * 2 } ?? 0)
            let address = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
            guard let address, address != MAP_FAILED else { return nil }
            list.append(Mapping(address: UInt(bitPattern: address), length: length))
            return UnsafeRawBufferPointer(start: address, count: length)
        }
    }

    /// How many bytes of the pages holding `length` bytes at `offset` are in the page cache
    /// (nil when the kernel cannot tell).
    func cachedBytes(at offset: Int, length: Int) -> Int? {
        var cached: Int64 = 0
        guard granary_cached_bytes(fd, Int64(offset), Int64(length), &cached) == 0 else { return nil }
        return Int(cached)
    }

    /// Lets the kernel drop `length` bytes at `offset` from the page cache (clean pages only;
    /// a later read fetches them from the disk again). Best effort.
    func dontNeed(at offset: Int, length: Int) {
        _ = posix_fadvise(fd, off_t(offset), off_t(length), Int32(POSIX_FADV_DONTNEED))
    }

    /// Asks the kernel to start reading `length` bytes at `offset` into the page cache, without
    /// waiting: the next read of that range then overlaps with what the caller does meanwhile.
    func willNeed(at offset: Int, length: Int) {
        _ = posix_fadvise(fd, off_t(offset), off_t(length), Int32(POSIX_FADV_WILLNEED))
    }

    /// Starts writing `length` bytes at `offset` back to the disk without waiting (buffered
    /// files only): by the commit's fdatasync most of the data is on its way. Best effort.
    func startWriteback(at offset: Int, length: Int) {
        _ = granary_start_writeback(fd, Int64(offset), Int64(length))
    }

    /// Makes written data durable (fdatasync). A failure is final for this file: after an fsync
    /// error Linux may have dropped the dirty pages, so a retry can "succeed" without the data.
    func sync() throws(StoreError) {
        if let fault = FaultInjection.current, let error = fault.beforeSync(path: path) { throw error }
        guard fdatasync(fd) == 0 else { throw StoreError.system("fdatasync", path: path, errno: errno) }
    }

    /// Cuts the file to `length` bytes.
    func truncate(to length: Int) throws(StoreError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw StoreError.system("ftruncate", path: path, errno: errno) }
    }

    /// Takes an exclusive `flock(2)` on the file without waiting; false when another open file
    /// description holds one. Pack files are locked by whoever appends to or compacts them, so
    /// recovery and GC never touch a pack that a live process is writing; the lock dies with
    /// the process (or the descriptor), so a crash never leaves a pack locked.
    func tryLockExclusive() throws(StoreError) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw StoreError.system("flock", path: path, errno: errno)
    }

    /// Whether `path` still names this open file (it was not unlinked or replaced meanwhile).
    func isStillLinked() -> Bool {
        var mine = stat()
        var named = stat()
        guard fstat(fd, &mine) == 0, stat(path, &named) == 0 else { return false }
        return mine.st_ino == named.st_ino && mine.st_dev == named.st_dev
    }

    /// Makes a directory's entries (a newly created file) durable.
    static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.system("open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError.system("fsync", path: path, errno: errno) }
    }
}

/// `O_DIRECT`, which Glibc's Swift module hides behind _GNU_SOURCE.
#if arch(arm64)
    private let oDirect: Int32 = 0o200000
#else
    private let oDirect: Int32 = 0o40000
#endif

/// A hook for tests that simulate faults at the I/O layer (a power cut that loses every write
/// not yet synced, a full disk). Production code never installs one.
package protocol FaultInjector: Sendable {
    /// Called before each write; returning an error fails the write with it.
    func beforeWrite(path: String, offset: Int, buffers: [UnsafeRawBufferPointer]) -> StoreError?
    /// Called before a file is synced; returning an error fails the sync with it. Writes that
    /// completed before this call are durable once the sync returns.
    func beforeSync(path: String) -> StoreError?
}

package enum FaultInjection {
    // Safe because tests install the injector before opening a store and remove it after.
    nonisolated(unsafe) package static var current: (any FaultInjector)?
}
