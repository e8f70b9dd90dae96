import Foundation
import GranaryCodec
package import GranaryIndex
import GranaryLMDB
package import GranaryStore
import Synchronization

extension ImageCatalog {
    /// Uploads image data (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py): queued → saving, the bytes through the store, then
    /// active in the same transaction that references the data. Any failure restores `queued`
    /// with nothing referenced.
    ///
    /// - Parameters:
    ///   - declaredSize: `x-openstack-image-size` or `Content-Length`; a different byte count is a 400.
    ///   - feed: sends the request body into the sink.
    package func upload(_ id: String, caller: Caller, declaredSize: Int?, feed: (UploadSink) async throws -> Void) async throws -> ImageRecord {
        let saving = try await moveQueued(id, to: .saving, caller: caller)
        do {
            return try await receive(declaredSize: declaredSize, formatsOf: saving, feed: feed) { txn, blob, virtualSize in
                guard var image = try self.index.get(id.lowercased(), in: txn), image.status == .saving else {
                    throw CatalogError(.gone, "Image \(id) was deleted during the upload.")
                }
                let previous = image
                self.activate(&image, with: blob, virtualSize: virtualSize)
                try self.index.put(image, previous: previous, in: txn)
                return image
            }
        } catch {
            await restoreQueued(id, from: .saving)
            throw error
        }
    }

    /// Makes `blob` the image's data (size, checksums as configured, the inspected virtual
    /// size) and the image active.
    func activate(_ image: inout ImageRecord, with blob: BlobInfo, virtualSize: Int?) {
        image.status = .active
        image.size = blob.size
        image.blob = blob.id.hex
        image.checksum = settings.legacyChecksum ? blob.digests[.md5]?.hex : nil
        image.osHashAlgo = settings.hashAlgorithm.rawValue
        image.osHashValue = blob.digests[settings.hashAlgorithm]?.hex
        image.virtualSize = virtualSize
        image.updatedAt = UnixTime.now()
    }

    /// queued → `status` (saving or uploading), so a second upload or stage gets 409 while this
    /// one runs; both formats must be set first (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py).
    /// - Returns: the image as it now is.
    func moveQueued(_ id: String, to status: ImageStatus, caller: Caller) async throws -> ImageRecord {
        let now = UnixTime.now()
        return try await store.coordinator.submit { txn in
            var image = try self.writable(id, caller, in: txn)
            let previous = image
            guard image.status == .queued else {
                throw CatalogError(.conflict, "Image status transition from '\(image.status)' to '\(status)' is not allowed")
            }
            guard image.diskFormat != nil, image.containerFormat != nil else {
                throw CatalogError(.badRequest, "Properties disk_format, container_format must be set prior to saving data.")
            }
            image.status = status
            image.updatedAt = now
            try self.index.put(image, previous: previous, in: txn)
            return image
        }
    }

    /// Streams `feed` through a new ingest session with the configured digests, counted
    /// against `image_size_cap`, checks the bytes against the formats of `image`
    /// (``checkFormat(diskFormat:containerFormat:head:size:enforce:)``) and commits the blob
    /// together with `work`, which gets the virtual size found.
    func receive<R: Sendable>(
        declaredSize: Int?, formatsOf image: ImageRecord, feed: (UploadSink) async throws -> Void,
        alongWith work: @escaping @Sendable (borrowing WriteTransaction, BlobInfo, Int?) throws -> R
    ) async throws -> R {
        var digests = [settings.hashAlgorithm]
        if settings.legacyChecksum && !digests.contains(.md5) { digests.append(.md5) }
        let virtualSize = Inspected()
        let enforce = settings.requireFormatMatch
        var cap = settings.imageSizeCap
        var limit = "image_size_cap"
        if settings.userStorageQuota > 0 {
            let remaining = try store.environment.read { txn in try remainingQuota(of: image, in: txn) }
            if let declaredSize { try checkQuota(size: declaredSize, remaining: remaining) }
            if remaining < cap { (cap, limit) = (remaining, "what user_storage_quota leaves") }
        }
        return try await store.receiveUpload(
            digests: digests, cap: cap, limit: limit, declaredSize: declaredSize,
            feed: { sink in
                try await feed(sink)
                let found = try Self.checkFormat(
                    diskFormat: image.diskFormat, containerFormat: image.containerFormat, head: sink.head, size: sink.received, enforce: enforce)
                virtualSize.value.withLock { $0 = found }
            },
            alongWith: { txn, blob in
                // Counted again where it commits: uploads of one owner running at once cannot
                // together pass the quota.
                if self.settings.userStorageQuota > 0 { try self.checkQuota(size: blob.size, remaining: try self.remainingQuota(of: image, in: txn)) }
                return try work(txn, blob, virtualSize.value.withLock { $0 })
            })
    }

    /// Bytes `image`'s owner may still store under `user_storage_quota`: the quota less the
    /// sizes of the owner's other images (uploaded or staged data; one key read).
    func remainingQuota<Access: TransactionAccess>(of image: ImageRecord, in txn: borrowing Transaction<Access>) throws -> Int {
        let own = try index.get(image.id, in: txn).flatMap { $0.owner == image.owner ? $0.size : nil } ?? 0
        return max(0, settings.userStorageQuota - (try index.bytes(of: image.owner, in: txn) - own))
    }

    /// 413 when `size` bytes do not fit in what the quota leaves (Glance's message).
    func checkQuota(size: Int, remaining: Int) throws {
        guard size > remaining else { return }
        throw CatalogError(
            .payloadTooLarge,
            "Denying attempt to upload image because it exceeds the quota: The size of the data \(size) will exceed the limit. \(remaining) bytes remaining."
        )
    }

    /// `status` → queued after a failed upload or stage (no data referenced).
    func restoreQueued(_ id: String, from status: ImageStatus) async {
        _ = try? await store.coordinator.submit { txn in
            guard var image = try self.index.get(id.lowercased(), in: txn), image.status == status else { return }
            let previous = image
            Self.requeue(&image)
            try self.index.put(image, previous: previous, in: txn)
        }
    }

    /// Back to `queued`: entering it clears `size` and `virtual_size` (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py).
    static func requeue(_ image: inout ImageRecord) {
        image.status = .queued
        image.size = nil
        image.virtualSize = nil
        image.updatedAt = UnixTime.now()
    }

    /// The image and a reader of its data (nil when it has none: 204), checking visibility and
    /// that non-admins do not read deactivated images (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py).
    package func download(_ id: String, caller: Caller, range: Range<Int>?) throws -> (image: ImageRecord, reader: BlobReader?) {
        let image = try show(id, caller: caller)
        if image.status == .deactivated && !caller.isAdmin {
            throw CatalogError(.forbidden, "The requested image has been deactivated. Image data download is forbidden.")
        }
        guard let blob = image.blob.flatMap(SHA256Key.init(hex:)) else { return (image, nil) }
        if range == nil { noteCacheHit(image.id) }
        return (image, try store.reader(blob, range: range))
    }
}

/// The virtual size the inspection of an upload found, handed from the feed to the commit.
private final class Inspected: Sendable {
    let value = Mutex<Int?>(nil)
}
