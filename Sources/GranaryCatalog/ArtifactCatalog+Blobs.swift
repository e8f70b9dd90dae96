import Foundation
import GranaryCodec
package import GranaryIndex
import GranaryLMDB
package import GranaryStore

/// Where a blob lives in an artifact: a blob field, or one key of a folder.
package struct BlobSlot: Sendable, Equatable, CustomStringConvertible {
    package var field: String
    package var key: String?

    package init(field: String, key: String?) {
        self.field = field
        self.key = key
    }

    package var description: String { key.map { "\(field)/\($0)" } ?? field }
}

extension ArtifactRecord {
    subscript(slot: BlobSlot) -> ArtifactBlob? {
        get { slot.key.map { folders[slot.field]?[$0] } ?? blobs[slot.field] }
        set {
            if let key = slot.key {
                folders[slot.field, default: [:]][key] = newValue
                if folders[slot.field]?.isEmpty == true { folders[slot.field] = nil }
            } else {
                blobs[slot.field] = newValue
            }
        }
    }
}

extension ArtifactCatalog {
    /// The field of `slot`, checked: a blob takes no key, a folder needs one. Through `all`
    /// (`via`), which has no blob fields, none is a blob (400, as Glare).
    func blobField(_ slot: BlobSlot, of artifact: ArtifactRecord, via typeName: String) throws -> ArtifactField {
        if typeName == ArtifactTypeRegistry.all {
            throw CatalogError(.badRequest, slot.key == nil ? "\(slot.field) is not a blob" : "\(slot.field) is not a blob dict")
        }
        let type = try registry.type(artifact.typeName)
        guard let field = type.field(slot.field), field.isBlob else {
            throw CatalogError(.badRequest, "\(slot.field) is not a blob field of artifact type \(type.name).")
        }
        if field.type == .blob && slot.key != nil { throw CatalogError(.badRequest, "\(slot.field) is a single blob: no key after it.") }
        if field.type == .folder && (slot.key ?? "").isEmpty { throw CatalogError(.badRequest, "\(slot.field) is a folder: name a key.") }
        if let key = slot.key {
            do { try field.checkKey(key) } catch {
                throw CatalogError(.badRequest, "Type: \(type.name). Field: \(field.name). Exception: \(error.why)")
            }
        }
        return field
    }

    /// Whether `field` may change now: always while drafted, once active only when mutable.
    func requireChangeable(_ field: ArtifactField, of artifact: ArtifactRecord) throws {
        try Self.requireChangeAllowed(field.name, of: artifact, type: try registry.type(artifact.typeName))
    }

    /// `PUT /artifacts/{type}/{id}/{blob}[/{key}]`: the slot is marked `saving` (a second upload
    /// or an activation gets 409), the bytes stream through the store with md5, sha1 and sha256,
    /// capped by the field's and the folder's limits (413), and one commit makes the new data
    /// the slot's and releases the data it replaces (Glare leaked it). A failure restores the
    /// slot as it was.
    package func upload(
        _ typeName: String, _ id: String, _ slot: BlobSlot, caller: Caller, contentType: String?, declaredSize: Int?,
        feed: (UploadSink) async throws -> Void
    ) async throws -> ArtifactRecord {
        let (cap, limit, previous) = try await modify(typeName, id, caller: caller) { artifact, txn in
            let field = try self.blobField(slot, of: artifact, via: typeName)
            let existing = artifact[slot]
            if existing?.status == "saving" { throw CatalogError(.conflict, "Blob \(slot) is being uploaded already.") }
            try self.requireChangeable(field, of: artifact)
            if let key = slot.key, let keys = artifact.folders[field.name], keys[key] == nil && keys.count >= field.itemLimit {
                throw CatalogError(.badRequest, "Folder \(field.name) holds its most keys (\(field.itemLimit)).")
            }
            var cap = field.blobLimit
            var limit = "the max_blob_size of \(field.name)"
            if field.type == .folder {
                let others = (artifact.folders[field.name] ?? [:]).filter { $0.key != slot.key }.values.reduce(0) { $0 + ($1.size ?? 0) }
                if field.folderLimit - others < cap {
                    cap = max(0, field.folderLimit - others)
                    limit = "the space left in folder \(field.name) (max_folder_size)"
                }
            }
            // The project's data quota; the data this upload replaces is given back.
            let quota = try self.remainingBytes(owner: artifact.owner, type: artifact.typeName, in: txn)
            let replaced = existing?.blob == nil ? 0 : existing?.size ?? 0
            if quota < Int.max && quota + replaced < cap {
                cap = quota + replaced
                limit = "the project's max_uploaded_data quota"
            }
            if let declaredSize, declaredSize > cap {
                throw CatalogError(.payloadTooLarge, "The upload (\(declaredSize) bytes) is larger than \(limit) (\(cap) bytes).")
            }
            var saving = existing ?? ArtifactBlob(status: "saving")
            saving.status = "saving"
            artifact[slot] = saving
            return (cap, limit, existing)
        }
        do {
            let keyspace = index
            return try await store.receiveUpload(
                digests: [.md5, .sha1, .sha256], cap: cap, limit: limit, declaredSize: declaredSize, feed: feed
            ) { txn, blob in
                guard var artifact = try keyspace.get(id, in: txn), artifact[slot]?.status == "saving" else {
                    throw CatalogError(.gone, "Artifact \(id) was deleted during the upload.")
                }
                let before = artifact
                if let old = artifact[slot]?.blob.flatMap(SHA256Key.init(hex:)) { _ = try self.store.release(old, in: txn) }
                var value = ArtifactBlob(status: "active")
                value.blob = blob.id.hex
                value.size = blob.size
                value.md5 = blob.digests[.md5]?.hex
                value.sha1 = blob.digests[.sha1]?.hex
                value.sha256 = blob.digests[.sha256]?.hex
                value.contentType = contentType ?? "application/octet-stream"
                artifact[slot] = value
                artifact.updatedAt = UnixTime.now()
                // Concurrent uploads of the project may have used the quota meanwhile.
                if try self.remainingBytes(owner: before.owner, type: before.typeName, in: txn) < artifact.storedBytes - before.storedBytes {
                    throw CatalogError(.payloadTooLarge, "The upload would pass the project's max_uploaded_data quota.")
                }
                try keyspace.put(artifact, previous: before, in: txn)
                return artifact
            }
        } catch {
            _ = try? await store.coordinator.submit { txn in
                guard var artifact = try self.index.get(id, in: txn), artifact[slot]?.status == "saving" else { return }
                let before = artifact
                artifact[slot] = previous
                try self.index.put(artifact, previous: before, in: txn)
            }
            throw error
        }
    }

    /// Checks that `slot` may be set to an external location now (before anything is fetched)
    /// and returns the size cap for it.
    package func externalCap(_ typeName: String, _ id: String, _ slot: BlobSlot, caller: Caller) throws -> Int {
        try store.environment.read { txn in
            let artifact = try visible(typeName, id, caller, in: txn)
            guard canChange(artifact, caller) else { throw CatalogError(.forbidden, "You are not allowed to change artifact \(id).") }
            let field = try blobField(slot, of: artifact, via: typeName)
            try requireChangeable(field, of: artifact)
            if artifact[slot] != nil { throw CatalogError(.conflict, "Blob \(slot) is set already: delete it first.") }
            return field.blobLimit
        }
    }

    /// Records an external location whose bytes the server fetched and hashed: the real size and
    /// digests, `external`, no store data (deleting the artifact never touches the remote).
    package func recordExternal(
        _ typeName: String, _ id: String, _ slot: BlobSlot, caller: Caller, url: String, size: Int, md5: String, sha1: String,
        sha256: String, contentType: String?
    ) async throws -> ArtifactRecord {
        try await modify(typeName, id, caller: caller) { artifact, _ in
            let field = try self.blobField(slot, of: artifact, via: typeName)
            try self.requireChangeable(field, of: artifact)
            if artifact[slot] != nil { throw CatalogError(.conflict, "Blob \(slot) is set already: delete it first.") }
            var value = ArtifactBlob(status: "active")
            value.external = true
            value.url = url
            value.size = size
            value.md5 = md5
            value.sha1 = sha1
            value.sha256 = sha256
            value.contentType = contentType
            artifact[slot] = value
            return artifact
        }
    }

    /// Every external blob: (artifact, slot, value), for `verify-external`.
    package func externalBlobs() throws -> [(artifact: ArtifactRecord, slot: BlobSlot, blob: ArtifactBlob)] {
        try store.environment.read { txn in
            var found: [(ArtifactRecord, BlobSlot, ArtifactBlob)] = []
            try index.newestFirst(type: nil, in: txn) { artifact in
                for (field, value) in artifact.blobs where value.external { found.append((artifact, BlobSlot(field: field, key: nil), value)) }
                for (field, entries) in artifact.folders {
                    for (key, value) in entries where value.external { found.append((artifact, BlobSlot(field: field, key: key), value)) }
                }
                return true
            }
            return found.sorted { ($0.0.id, $0.1.description) < ($1.0.id, $1.1.description) }
        }
    }

    /// The blob of `slot` and a reader of it (or of `range`), for `GET …/{blob}[/{key}]`:
    /// anyone who sees the artifact may download (public ones included); a deactivated
    /// artifact only an admin.
    package func download(
        _ typeName: String, _ id: String, _ slot: BlobSlot, caller: Caller, range: Range<Int>?
    ) throws -> (ArtifactBlob, BlobReader?) {
        let artifact = try show(typeName, id, caller: caller)
        _ = try blobField(slot, of: artifact, via: typeName)
        if artifact.status == .deactivated && !caller.isAdmin {
            throw CatalogError(.forbidden, "Artifact \(id) is deactivated: only administrators download its blobs.")
        }
        guard let value = artifact[slot] else { throw CatalogError(.notFound, "Blob \(slot) of artifact \(id) is not set.") }
        if value.external { return (value, nil) }
        guard value.status == "active", let blob = value.blob.flatMap(SHA256Key.init(hex:)) else {
            throw CatalogError(.conflict, "Blob \(slot) of artifact \(id) is not active (status \(value.status)).")
        }
        return (value, try store.reader(blob, range: range))
    }

    /// `DELETE …/{blob}[/{key}]`: unsets the slot and releases its data (drafted artifacts, or
    /// mutable fields of active ones).
    package func deleteBlob(_ typeName: String, _ id: String, _ slot: BlobSlot, caller: Caller) async throws -> ArtifactRecord {
        try await modify(typeName, id, caller: caller) { artifact, txn in
            let field = try self.blobField(slot, of: artifact, via: typeName)
            try self.requireChangeable(field, of: artifact)
            guard let value = artifact[slot] else { throw CatalogError(.notFound, "Blob \(slot) of artifact \(id) is not set.") }
            if value.status == "saving" { throw CatalogError(.conflict, "Blob \(slot) is being uploaded.") }
            if let blob = value.blob.flatMap(SHA256Key.init(hex:)) { _ = try self.store.release(blob, in: txn) }
            artifact[slot] = nil
            return artifact
        }
    }

    /// Slots a crash left `saving` get their last committed data back (or are unset when they
    /// had none). Run by the data directory's lock holder at start.
    /// - Returns: "artifact/slot" of each slot fixed.
    package func recoverInterruptedUploads() async throws -> [String] {
        try await store.coordinator.submit { txn in
            var stuck: [ArtifactRecord] = []
            try self.index.newestFirst(type: nil, in: txn) { artifact in
                if artifact.isSaving { stuck.append(artifact) }
                return true
            }
            var fixed: [String] = []
            for var artifact in stuck {
                let before = artifact
                var slots = artifact.blobs.filter { $0.value.status == "saving" }.map { BlobSlot(field: $0.key, key: nil) }
                for (field, entries) in artifact.folders {
                    slots += entries.filter { $0.value.status == "saving" }.map { BlobSlot(field: field, key: $0.key) }
                }
                for slot in slots {
                    var value = artifact[slot]
                    value?.status = "active"
                    artifact[slot] = value?.blob == nil ? nil : value
                    fixed.append("\(artifact.id)/\(slot)")
                }
                try self.index.put(artifact, previous: before, in: txn)
            }
            return fixed
        }
    }
}
