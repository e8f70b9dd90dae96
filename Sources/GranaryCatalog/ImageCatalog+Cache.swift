import Dispatch
import Foundation
import GranaryIndex
import GranaryStore
import Synchronization

/// An image in Glance's cache listing (`GET /v2/cache`).
package struct CachedImage: Sendable, Equatable {
    package let imageID: String
    /// Downloads of the image since it was queued.
    package let hits: Int
    /// Seconds since 1970 of the last download, or of queueing when there was none.
    package let lastAccessed: Double
    /// Seconds since 1970 when the image was queued for caching.
    package let lastModified: Double
    package let size: Int
}

/// What `DELETE /v2/cache` clears (`x-image-cache-clear-target`).
package enum CacheClearTarget: String, Sendable {
    case cache, queue
}

/// The images an operator asked to cache, with their hits, kept for the server's lifetime.
final class CacheRegistry: Sendable {
    struct Entry {
        var blob: SHA256Key
        var size: Int
        var queuedAt: Double
        var lastAccessed: Double
        var hits = 0
        /// Whether the read that brings the records in has finished.
        var warmed = false
        /// Whether that read is running.
        var warming = false
    }

    let entries = Mutex<[String: Entry]>([:])
}

/// Glance's image cache API (2.14) over the page cache. Glance copies cached images to a local
/// directory of each API node; Granary's data is already local, so "cached" means its pack
/// records are in the operating system's page cache, where a download reads them without
/// touching the disk. Queueing reads the image's records in, in the background (the request
/// returns at once); an image is listed as cached once that read is done and all of them are
/// still resident, as queued until then.
/// Deleting lets the kernel drop them. Admins only, as Glance's default policy. The list of
/// queued images lives as long as the server process; the page cache itself may drop an image
/// (memory pressure) or GC may move its records to a new pack, which moves it back to the queued
/// list and reads it in again.
extension ImageCatalog {
    private func requireCacheAdmin(_ caller: Caller) throws(CatalogError) {
        guard caller.isAdmin else { throw CatalogError(.forbidden, "You are not authorized to manage the image cache.") }
    }

    /// Queues image `id` for caching: it must exist and be active.
    package func queueForCache(_ id: String, caller: Caller) throws {
        try requireCacheAdmin(caller)
        let image = try show(id, caller: caller)
        guard image.status == .active, let blob = image.blob.flatMap(SHA256Key.init(hex:)) else {
            throw CatalogError(.badRequest, "Only images with status active can be targeted for queueing")
        }
        let now = Date().timeIntervalSince1970
        cache.entries.withLock { entries in
            if entries[image.id] == nil {
                entries[image.id] = CacheRegistry.Entry(blob: blob, size: image.size ?? 0, queuedAt: now, lastAccessed: now)
            }
        }
        warm(image.id)
    }

    /// Reads image `id`'s records in, unless that is already running. Reading a large image in
    /// takes a while: off the caller's thread. A failure leaves the image queued.
    private func warm(_ id: String) {
        let blob: SHA256Key? = cache.entries.withLock { entries in
            guard var entry = entries[id], !entry.warming else { return nil }
            entry.warming = true
            entries[id] = entry
            return entry.blob
        }
        guard let blob else { return }
        let store = self.store
        let cache = self.cache
        DispatchQueue.global(qos: .utility).async {
            let read = (try? store.warm(blob)) != nil
            cache.entries.withLock { entries in
                entries[id]?.warming = false
                if read { entries[id]?.warmed = true }
            }
        }
    }

    /// The queued images whose records are all in the page cache, and those still coming in.
    package func cacheListing(caller: Caller) throws -> (cached: [CachedImage], queued: [String]) {
        try requireCacheAdmin(caller)
        var cached: [CachedImage] = []
        var queued: [String] = []
        for (id, entry) in cache.entries.withLock({ $0 }).sorted(by: { $0.value.queuedAt < $1.value.queuedAt }) {
            let residency: (cached: Int?, total: Int)
            do {
                residency = try store.residency(entry.blob)
            } catch let error as StoreError where error.code == .notFound {
                cache.entries.withLock { _ = $0.removeValue(forKey: id) }  // the image was deleted since
                continue
            }
            // Cached: read in, and still all resident (where the kernel cannot tell, before
            // Linux 6.5, having been read in counts).
            if entry.warmed && residency.cached.map({ $0 >= residency.total }) ?? true {
                cached.append(
                    CachedImage(
                        imageID: id, hits: entry.hits, lastAccessed: entry.lastAccessed, lastModified: entry.queuedAt, size: entry.size))
            } else {
                queued.append(id)
                if entry.warmed {
                    // Read in once, gone since: read in again.
                    cache.entries.withLock { $0[id]?.warmed = false }
                    warm(id)
                }
            }
        }
        return (cached, queued)
    }

    /// Forgets image `id` and lets the page cache drop its records.
    package func removeFromCache(_ id: String, caller: Caller) throws {
        try requireCacheAdmin(caller)
        let image = try show(id, caller: caller)
        guard let entry = cache.entries.withLock({ $0.removeValue(forKey: image.id) }) else { return }
        try? store.evict(entry.blob)
    }

    /// Clears the cached images, the queued ones, or (nil) both.
    package func clearCache(_ target: CacheClearTarget?, caller: Caller) throws {
        let listing = try cacheListing(caller: caller)
        var ids: [String] = []
        if target != .queue { ids += listing.cached.map(\.imageID) }
        if target != .cache { ids += listing.queued }
        for id in ids {
            guard let entry = cache.entries.withLock({ $0.removeValue(forKey: id) }) else { continue }
            try? store.evict(entry.blob)
        }
    }

    /// Counts a download of a queued image.
    func noteCacheHit(_ id: String) {
        let now = Date().timeIntervalSince1970
        cache.entries.withLock { entries in
            entries[id]?.hits += 1
            entries[id]?.lastAccessed = now
        }
    }
}
