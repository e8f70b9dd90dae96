import Foundation
import GranaryCodec
public import GranaryIndex
import GranaryLMDB
public import GranaryStore

/// Where an upload's bytes go: counts them against the size cap on the way into the store.
public final class UploadSink: @unchecked Sendable {
    // Safe because one upload task feeds a sink, sequentially.
    let session: IngestSession
    let cap: Int
    public private(set) var received = 0

    init(session: IngestSession, cap: Int) {
        self.session = session
        self.cap = cap
    }

    /// Lends free ingest space to `body`, which copies bytes in and returns how many.
    public func fill(_ body: (UnsafeMutableRawBufferPointer) throws -> Int) async throws {
        let n = try await session.fill(body)
        received += n
        if received > cap {
            throw CatalogError(.payloadTooLarge, "Image exceeds the storage quota: the upload is larger than image_size_cap (\(cap) bytes).")
        }
    }
}

extension ImageCatalog {
    /// Uploads image data (reference §7.2): queued → saving, the bytes through the store, then
    /// active in the same transaction that references the data. Any failure restores `queued`
    /// with nothing referenced.
    ///
    /// - Parameters:
    ///   - declaredSize: `x-openstack-image-size` or `Content-Length`; a different byte count is a 400.
    ///   - feed: sends the request body into the sink.
    public func upload(_ id: String, caller: Caller, declaredSize: Int?, feed: (UploadSink) async throws -> Void) async throws -> ImageRecord {
        let now = Int(Date().timeIntervalSince1970)
        // queued → saving, so a second upload gets 409 while this one runs.
        _ = try await store.coordinator.submit { txn in
            var image = try self.writable(id, caller, in: txn)
            let previous = image
            guard image.status == "queued" else {
                throw CatalogError(.conflict, "Image status transition from '\(image.status)' to 'saving' is not allowed")
            }
            guard image.diskFormat != nil, image.containerFormat != nil else {
                throw CatalogError(.badRequest, "Properties disk_format, container_format must be set prior to saving data.")
            }
            image.status = "saving"
            image.updatedAt = now
            try self.index.put(image, previous: previous, in: txn)
            return image
        }
        var digests = [settings.hashAlgorithm]
        if settings.legacyChecksum && !digests.contains(.md5) { digests.append(.md5) }
        let session = store.beginIngest(digests: digests)
        let sink = UploadSink(session: session, cap: settings.imageSizeCap)
        do {
            try await feed(sink)
            if let declaredSize, declaredSize != sink.received {
                throw CatalogError(.badRequest, "Size of uploaded data (\(sink.received)) differs from the declared size (\(declaredSize)).")
            }
            let staged = try await session.finish()
            let algorithm = settings.hashAlgorithm
            let legacy = settings.legacyChecksum
            let (_, image) = try await store.commit(staged) { txn, blob in
                guard var image = try self.index.get(id.lowercased(), in: txn), image.status == "saving" else {
                    throw CatalogError(.gone, "Image \(id) was deleted during the upload.")
                }
                let previous = image
                image.status = "active"
                image.size = blob.size
                image.blob = blob.id.hex
                image.checksum = legacy ? blob.digests[.md5]?.hex : nil
                image.osHashAlgo = algorithm.rawValue
                image.osHashValue = blob.digests[algorithm]?.hex
                if image.diskFormat == "raw" { image.virtualSize = blob.size }
                image.updatedAt = Int(Date().timeIntervalSince1970)
                try self.index.put(image, previous: previous, in: txn)
                return image
            }
            return image
        } catch {
            await session.abort()
            await restoreQueued(id)
            throw error
        }
    }

    /// Gives images left `saving` by a crash their defined state back (`queued`, nothing
    /// referenced: the upload's data was never committed). Run by the lock holder at start.
    /// - Returns: the ids restored.
    public func recoverInterruptedUploads() async throws -> [String] {
        try await store.coordinator.submit { txn in
            var stuck: [ImageRecord] = []
            try self.index.walk([.status("saving")], descending: true, after: nil, in: txn) { image in
                if image.status == "saving" { stuck.append(image) }
                return true
            }
            for var image in stuck {
                let previous = image
                image.status = "queued"
                image.size = nil
                image.virtualSize = nil
                try self.index.put(image, previous: previous, in: txn)
            }
            return stuck.map(\.id)
        }
    }

    /// saving → queued after a failed upload (no data referenced).
    private func restoreQueued(_ id: String) async {
        _ = try? await store.coordinator.submit { txn in
            guard var image = try self.index.get(id.lowercased(), in: txn), image.status == "saving" else { return }
            let previous = image
            image.status = "queued"
            image.size = nil
            image.virtualSize = nil
            try self.index.put(image, previous: previous, in: txn)
        }
    }

    /// The image and a reader of its data (nil when it has none: 204), checking visibility and
    /// that non-admins do not read deactivated images (reference §7.3).
    public func download(_ id: String, caller: Caller, range: Range<Int>?) throws -> (image: ImageRecord, reader: BlobReader?) {
        let image = try show(id, caller: caller)
        if image.status == "deactivated" && !caller.isAdmin {
            throw CatalogError(.forbidden, "The requested image has been deactivated. Image data download is forbidden.")
        }
        guard let blob = image.blob.flatMap(SHA256Key.init(hex:)) else { return (image, nil) }
        return (image, try store.reader(blob, range: range))
    }
}
