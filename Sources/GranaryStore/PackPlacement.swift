import Dispatch
import Foundation
import GranaryCodec
package import GranaryObjectStore

#if canImport(Glibc)
    import Glibc
#endif

/// Where a store keeps its packs: the local pack directory (the embedded default) and the object
/// stores (`stores.ID` of the configuration), one of which may take the new packs.
///
/// A pack's row names the object store holding it; a row without one is a local pack. So a
/// store that once wrote locally and now writes to Swift reads both, and nothing moves.
package struct PackPlacement: Sendable {
    /// Object stores by id.
    package var objectStores: [String: any ObjectStore]
    /// The object store new packs go to; nil: the local pack directory.
    package var defaultStore: String?
    /// This node's cache directory: packs being written are spooled in `spool/`, extents of
    /// object packs are cached in `packs-ID/`.
    package var cacheDirectory: String?
    /// Bytes each object store's read cache may hold (`cache.max_bytes`).
    package var cacheMaxBytes: Int
    /// The local pack directory when it is not the data directory's `packs/` (a `file://` store).
    package var localDirectory: String?

    package init(
        objectStores: [String: any ObjectStore] = [:], defaultStore: String? = nil, cacheDirectory: String? = nil, cacheMaxBytes: Int = 10 << 30
    ) {
        self.objectStores = objectStores
        self.defaultStore = defaultStore
        self.cacheDirectory = cacheDirectory
        self.cacheMaxBytes = cacheMaxBytes
    }

    /// Packs only in the local directory.
    package static let local = PackPlacement()
}

/// One object store's packs as the engine uses them: sealed pack files sent whole under their
/// never-reused names, and read through this node's ``PackCache``.
package struct ObjectPacks: Sendable {
    package let id: String
    let objects: any ObjectStore
    package let cache: PackCache
    /// The store's instance name and a slash: object names never collide across stores.
    let prefix: String

    /// The store `objects` as `id`, its node cache of `maxBytes` in `cacheDirectory` (emptied).
    init(id: String, objects: any ObjectStore, cacheDirectory: String, maxBytes: Int, prefix: String) throws {
        self.id = id
        self.objects = objects
        self.cache = try PackCache(directory: cacheDirectory, store: objects, maxBytes: maxBytes)
        self.prefix = prefix
    }

    /// The node-cache file of pack `pack` (`size` bytes), open, holding at least `range`
    /// (fetched with ranged GETs as needed): `open`, when it is still the file of that cache
    /// generation, else a new descriptor.
    func open(
        _ pack: UInt32, range: Range<Int>, size: Int, reusing open: (file: FileDescriptor, generation: UInt64)?
    ) async throws -> (file: FileDescriptor, generation: UInt64) {
        let name = name(pack)
        let (fd, generation) = try await cache.open(name, range: range, size: size, reusing: open?.generation)
        guard let fd else {
            guard let open else { throw StoreError(.invalidArgument, "the node cache kept a file that was not open") }
            return open
        }
        return (FileDescriptor.adopting(fd, path: cache.path(of: name)), generation)
    }

    /// Asks the node cache for `range` of pack `pack` without waiting (read-ahead).
    func prefetch(_ pack: UInt32, range: Range<Int>, size: Int) {
        let (name, cache) = (name(pack), cache)
        Task {
            // A read that fails has let go of its pin already.
            if (try? await cache.file(for: name, range: range, size: size)) != nil { await cache.release(name) }
        }
    }

    /// Takes the sealed spool file of a pack this node sent as fully cached (written through).
    func adopt(_ pack: UInt32, file: String, size: Int) async throws {
        try await cache.adopt(name(pack), file: file, size: size)
    }

    /// The object name of pack `pack`: the store's prefix and its file name, which the pack id
    /// makes unique for good (ids are taken durably before a pack is written, see
    /// ``BlobStore/leasePack()``).
    func name(_ pack: UInt32) -> String { prefix + PackFormat.fileName(pack) }

    /// Sends the sealed pack file at `path` (`size` bytes) as one write-once PUT with its md5.
    func upload(_ pack: UInt32, path: String, size: Int) async throws(StoreError) {
        let md5 = try await Self.md5(of: path, size: size)
        do {
            try await objects.put(name(pack), body: .file(path: path, size: size), md5: md5)
        } catch {
            throw StoreError(error, "sending pack \(name(pack)) to store \(id)")
        }
    }

    /// Removes pack `pack` from the store (gone already counts as removed) and from the cache.
    func delete(_ pack: UInt32) async throws(StoreError) {
        do {
            try await objects.delete(name(pack))
        } catch {
            throw StoreError(error, "removing pack \(name(pack)) from store \(id)")
        }
        await cache.forget(name(pack))
    }

    /// Bytes `range` of pack `pack`, read from the store (not the cache) into `buffer`.
    func read(_ pack: UInt32, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) async throws(StoreError) {
        do {
            try await objects.get(name(pack), range: range, into: buffer)
        } catch {
            throw StoreError(error, "reading pack \(name(pack)) from store \(id)")
        }
    }

    /// The packs the store lists under this store's prefix, with when each was written. A
    /// listing may lag behind writes: it finds candidates, never decides liveness.
    func list() async throws(StoreError) -> [(pack: UInt32, written: Date?)] {
        do {
            return try await objects.list(prefix: prefix).compactMap { object in
                PackFormat.packID(fileName: String(object.name.dropFirst(prefix.count))).map { ($0, object.lastModified) }
            }
        } catch {
            throw StoreError(error, "listing store \(id)")
        }
    }

    /// The size of pack `pack` in the store, or nil when it is not there.
    func size(of pack: UInt32) async throws(StoreError) -> Int? {
        do {
            return try await objects.size(of: name(pack))
        } catch {
            throw StoreError(error, "asking store \(id) for pack \(name(pack))")
        }
    }

    /// Reads pack `pack` (`size` bytes) from the store, not from the node cache, into an
    /// unlinked temporary file in `directory` (fsck --scrub), 32 MiB per ranged GET.
    func download(_ pack: UInt32, size: Int, into directory: String) async throws(StoreError) -> FileDescriptor {
        let path = directory + "/scrub-" + PackFormat.fileName(pack)
        unlink(path)
        guard let file = try FileDescriptor.createExclusive(path) else { throw StoreError(.io, "\(path) exists") }
        unlink(path)
        let step = 32 << 20
        for start in stride(from: 0, to: size, by: step) {
            let range = start..<min(size, start + step)
            do {
                try await objects.copy(name(pack), range: range, into: file.fd, path: path)
            } catch {
                throw StoreError(error, "reading pack \(name(pack)) from store \(id)")
            }
        }
        return file
    }

    /// The md5 of a file's first `size` bytes, read off the cooperative pool.
    static func md5(of path: String, size: Int) async throws(StoreError) -> [UInt8] {
        let result: Result<[UInt8], StoreError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(
                    returning: Result { () throws(StoreError) -> [UInt8] in
                        let file = try FileDescriptor.open(path, writable: false)
                        let digest = StreamingDigest(.md5)
                        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
                        defer { buffer.deallocate() }
                        var offset = 0
                        while offset < size {
                            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, size - offset)])
                            try file.read(into: piece, at: offset)
                            digest.update(UnsafeRawBufferPointer(piece))
                            offset += piece.count
                        }
                        return digest.finalize().bytes
                    })
            }
        }
        return try result.get()
    }
}

extension StoreError {
    /// An object store's failure as the engine reports it: unreachable or refusing is
    /// ``Code-swift.struct/unavailable`` (the APIs answer 503), damage is corruption.
    init(_ error: ObjectStoreError, _ doing: String) {
        let code: Code =
            switch error.kind {
            case .corrupt: .corrupt
            case .notFound: .notFound
            case .unavailable, .refused, .exists: .unavailable
            }
        self.init(code, "\(doing): \(error.description)")
    }
}
