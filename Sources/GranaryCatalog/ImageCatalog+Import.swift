import Foundation
import GranaryCodec
package import GranaryIndex
import GranaryLMDB
package import GranaryParsing
import GranaryStore

/// Who asked for an import, for the task record tempest checks.
package struct ImportRequest: Sendable {
    /// The `POST /import` body as the client sent it.
    package var body: [String: JSONValue]
    /// The response's `x-openstack-request-id`.
    package var requestID: String?

    package init(body: [String: JSONValue], requestID: String?) {
        self.body = body
        self.requestID = requestID
    }
}

extension ImageCatalog {
    /// `PUT /stage` (Glance: glance/api/v2/image_data.py, `stage`): queued → uploading, the bytes through the store with
    /// the upload digests, kept as the image's staged data (its own store reference) until an
    /// import or the stage time-to-live. A failure restores `queued` with nothing referenced.
    package func stage(_ id: String, caller: Caller, declaredSize: Int?, feed: (UploadSink) async throws -> Void) async throws {
        guard settings.importMethods.contains(.glanceDirect) else {
            throw CatalogError(.notFound, "The glance-direct import method is not enabled: staging is not available.")
        }
        let uploading = try await moveQueued(id, to: .uploading, caller: caller)
        let algorithm = settings.hashAlgorithm
        let legacy = settings.legacyChecksum
        do {
            try await receive(declaredSize: declaredSize, formatsOf: uploading, feed: feed) { txn, blob, virtualSize in
                guard var image = try self.index.get(id.lowercased(), in: txn), image.status == .uploading, image.staged == nil else {
                    throw CatalogError(.gone, "Image \(id) was deleted during the upload.")
                }
                let previous = image
                let now = UnixTime.now()
                image.staged = StagedData(
                    blob: blob.id.hex, size: blob.size, checksum: legacy ? blob.digests[.md5]?.hex : nil,
                    osHashAlgo: algorithm.rawValue, osHashValue: blob.digests[algorithm]?.hex, stagedAt: now, virtualSize: virtualSize)
                image.size = blob.size
                image.updatedAt = now
                try self.index.put(image, previous: previous, in: txn)
            }
        } catch {
            await restoreQueued(id, from: .uploading)
            throw error
        }
    }

    /// 404 or 403 unless `caller` may change image `id`: checked before an import's URI is
    /// looked at, so that what the URI filter says reaches only those who may import.
    package func authorizeImport(_ id: String, caller: Caller) throws {
        _ = try store.environment.read { txn in try writable(id, caller, in: txn) }
    }

    /// `POST /import` (Glance: glance/api/v2/images.py, `import_image`, and glance/async_/flows/api_image_import.py): checks the request, takes the import lock
    /// (`os_glance_import_task`) and moves the image to `importing` with a `processing` task.
    /// With glance-direct the staged data is already in the store under its content address, so
    /// the import then finishes in one transaction: the staged blob becomes the image's data (a
    /// crash between the two steps is finished by ``recoverInterruptedWork()``). A web-download
    /// or glance-download task is returned still `processing`: the caller fetches the data into
    /// ``completeImport(_:adopting:feed:)``.
    /// - Returns: the task, finished for glance-direct.
    @discardableResult
    package func importImage(_ id: String, _ request: ImportRequest, caller: Caller) async throws -> TaskRecord {
        let method = try Self.importMethod(request.body, enabled: settings.importMethods)
        if method == .webDownload { _ = try Self.webDownloadURI(request.body) }
        if method == .glanceDownload { _ = try Self.glanceDownloadSource(request.body) }
        let input = try Self.taskInput(imageID: id.lowercased(), request.body)
        let now = UnixTime.now()
        let task = try await store.coordinator.submit { txn in
            var image = try self.writable(id, caller, in: txn)
            let previous = image
            if let holder = image.properties["os_glance_import_task"], !holder.isEmpty {
                throw CatalogError(.conflict, "Image \(id) has an import in progress (task \(holder)).")
            }
            if method != .glanceDirect {
                guard image.status == .queued else {
                    throw CatalogError(.conflict, "Image \(id) is '\(image.status)': a \(method) import needs a 'queued' image.")
                }
            } else if image.status != .uploading || image.staged == nil {
                throw CatalogError(
                    .conflict, "Image \(id) is '\(image.status)': the glance-direct import needs staged data (status 'uploading').")
            }
            guard image.diskFormat != nil, image.containerFormat != nil else {
                throw CatalogError(.conflict, "Properties disk_format, container_format must be set prior to importing data.")
            }
            var task = TaskRecord(
                id: UUID().uuidString.lowercased(), type: "api_image_import", owner: caller.projectID, imageID: image.id,
                requestID: request.requestID, userID: caller.userID, input: input, now: now)
            task.status = "processing"
            try self.tasks.put(task, in: txn)
            image.status = .importing
            image.properties["os_glance_import_task"] = task.id
            image.properties["os_glance_importing_to_stores"] = ""
            image.properties["os_glance_failed_import"] = ""
            image.updatedAt = now
            try self.index.put(image, previous: previous, in: txn)
            return task
        }
        guard method == .glanceDirect else { return task }
        return try await store.coordinator.submit { txn in try self.finishImport(task.id, in: txn) }
    }

    /// What a glance-download import takes from the source image besides its data: its formats
    /// and the properties Glance copies (`[glance_download_properties] extra_properties`).
    package struct AdoptedMetadata: Sendable {
        package var diskFormat: String?
        package var containerFormat: String?
        package var properties: [String: String]

        /// From the source image's JSON: `hw_*` and `trait:*` properties, `os_distro`,
        /// `os_secure_boot` and `os_type`.
        package init(sourceImage: [String: JSONValue]) {
            func text(_ key: String) -> String? {
                if case .string(let value)? = sourceImage[key] { return value }
                return nil
            }
            diskFormat = text("disk_format")
            containerFormat = text("container_format")
            properties = [:]
            for key in sourceImage.keys
            where key.hasPrefix("hw_") || key.hasPrefix("trait:") || ["os_distro", "os_secure_boot", "os_type"].contains(key) {
                if let value = text(key) { properties[key] = value }
            }
        }
    }

    /// Finishes a web-download or glance-download import (importing → active): `feed` streams
    /// the fetched bytes through the store, and the data, the `adopting` metadata, the dropped
    /// lock and the task's success commit in one transaction. Any failure (the fetch, the size
    /// cap, a full disk, the image deleted meanwhile) goes to ``failImport(_:reason:)``.
    /// - Returns: the ended task (nil when it is gone).
    @discardableResult
    package func completeImport(
        _ taskID: String, adopting metadata: AdoptedMetadata? = nil, feed: (UploadSink) async throws -> Void
    ) async -> TaskRecord? {
        do {
            let importing = try store.environment.read { txn in
                try self.tasks.get(taskID, in: txn).flatMap { try self.index.get($0.imageID, in: txn) }
            }
            guard var importing else { throw CatalogError(.gone, "The image was deleted before its import began.") }
            if let metadata {
                importing.diskFormat = metadata.diskFormat ?? importing.diskFormat
                importing.containerFormat = metadata.containerFormat ?? importing.containerFormat
            }
            let formats = importing
            return try await receive(declaredSize: nil, formatsOf: formats, feed: feed) { txn, blob, virtualSize in
                guard var task = try self.tasks.get(taskID, in: txn), var image = try self.index.get(task.imageID, in: txn),
                    image.status == .importing, image.properties["os_glance_import_task"] == taskID
                else {
                    throw CatalogError(.gone, "The image was deleted, or its import ended, before the data was stored.")
                }
                let previous = image
                if let metadata {
                    (image.diskFormat, image.containerFormat) = (formats.diskFormat, formats.containerFormat)
                    image.properties.merge(metadata.properties) { _, adopted in adopted }
                }
                self.activate(&image, with: blob, virtualSize: virtualSize)
                image.properties["os_glance_import_task"] = nil
                try self.index.put(image, previous: previous, in: txn)
                task.status = "success"
                self.stamp(&task)
                try self.tasks.put(task, in: txn)
                return task
            }
        } catch {
            return await failImport(taskID, reason: "\(error)")
        }
    }

    /// Ends an import that could not finish: the image (if still importing under this task)
    /// goes back to `queued` with nothing referenced and the lock dropped, and the task fails
    /// with `reason`, which `GET /images/{id}/tasks` shows.
    /// - Returns: the failed task (nil when it is gone).
    @discardableResult
    package func failImport(_ taskID: String, reason: String) async -> TaskRecord? {
        try? await store.coordinator.submit { txn in
            guard var task = try self.tasks.get(taskID, in: txn) else { return nil }
            if var image = try self.index.get(task.imageID, in: txn), image.status == .importing,
                image.properties["os_glance_import_task"] == taskID
            {
                let previous = image
                Self.requeue(&image)
                image.properties["os_glance_import_task"] = nil
                try self.index.put(image, previous: previous, in: txn)
            }
            task.status = "failure"
            task.message = reason
            self.stamp(&task)
            try self.tasks.put(task, in: txn)
            return task
        }
    }

    /// An ending task's times: updated now, kept for `settings.taskTimeToLive` from now.
    private func stamp(_ task: inout TaskRecord) {
        let now = UnixTime.now()
        task.updatedAt = now
        task.expiresAt = now + settings.taskTimeToLive
    }

    /// importing → active: the staged blob becomes the image's data, the lock is dropped and
    /// the task succeeds. An image that lost its stage (or was deleted) fails the task instead.
    func finishImport(_ taskID: String, in txn: borrowing WriteTransaction) throws -> TaskRecord {
        guard var task = try tasks.get(taskID, in: txn) else { throw CatalogError(.notFound, "No task found with ID \(taskID)") }
        let now = UnixTime.now()
        stamp(&task)
        guard var image = try index.get(task.imageID, in: txn), image.status == .importing, let staged = image.staged else {
            task.status = "failure"
            task.message = "The import did not finish: the image was deleted, or the server stopped before its data was stored."
            try tasks.put(task, in: txn)
            return task
        }
        let previous = image
        image.status = .active
        image.blob = staged.blob
        image.size = staged.size
        image.checksum = staged.checksum
        image.osHashAlgo = staged.osHashAlgo
        image.osHashValue = staged.osHashValue
        image.virtualSize = staged.virtualSize ?? (image.diskFormat == "raw" ? staged.size : nil)
        image.staged = nil
        image.properties["os_glance_import_task"] = nil
        image.updatedAt = now
        try index.put(image, previous: previous, in: txn)
        task.status = "success"
        try tasks.put(task, in: txn)
        return task
    }

    /// The tasks of an image the caller may see, oldest first (`GET /images/{id}/tasks`).
    package func tasks(of id: String, caller: Caller) throws -> [TaskRecord] {
        try store.environment.read { txn in
            let image = try visible(id, caller, in: txn)
            return try tasks.all(of: image.id, in: txn)
        }
    }

    /// The legacy tasks API (`/v2/tasks`, admin only as Glance's `tasks_api_access`): every task,
    /// newest first, optionally of one type and status.
    package func listTasks(caller: Caller, type: String?, status: String?) throws -> [TaskRecord] {
        guard caller.isAdmin else { throw CatalogError(.forbidden, "You are not authorized to list tasks (admin only).") }
        return try store.environment.read { txn in
            try tasks.all(in: txn).filter { (type == nil || $0.type == type) && (status == nil || $0.status == status) }
                .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        }
    }

    /// One task of the tasks API (admin only).
    package func task(_ id: String, caller: Caller) throws -> TaskRecord {
        guard caller.isAdmin else { throw CatalogError(.forbidden, "You are not authorized to show tasks (admin only).") }
        guard let task = try store.environment.read({ txn in try tasks.get(id.lowercased(), in: txn) }) else {
            throw CatalogError(.notFound, "Task with the given ID \(id) not found")
        }
        return task
    }

    /// `POST /v2/tasks`: the legacy import task fetches `input.import_from` from a URL, which
    /// Granary leaves to the interoperable import (web-download, or stage and glance-direct).
    /// The request is checked as Glance checks it, then refused with 400 at create time, as
    /// newer Glance refuses URLs it will not fetch.
    package func createTask(_ body: [String: JSONValue], caller: Caller) throws -> Never {
        guard caller.isAdmin else { throw CatalogError(.forbidden, "You are not authorized to create tasks (admin only).") }
        guard case .string(let type)? = body["type"] else { throw CatalogError(.badRequest, "Task type is required.") }
        guard type == "import" else { throw CatalogError(.badRequest, "Task type '\(type)' is not supported: use 'import'.") }
        guard case .object(let input)? = body["input"], case .string(let source)? = input["import_from"] else {
            throw CatalogError(.badRequest, "Input for an import task requires 'import_from', 'import_from_format' and 'image_properties'.")
        }
        throw CatalogError(
            .badRequest,
            "import_from \(source) is not accepted: the legacy import task is not served; import the URI with the web-download method (POST /v2/images/{id}/import), or stage the data and import it with glance-direct."
        )
    }

    /// What ``recoverInterruptedWork()`` did.
    package struct Recovery: Sendable, Equatable {
        /// Images left `saving` or `uploading` without staged data: back to `queued`.
        package var requeued: [String] = []
        /// Images left `importing` with their staged data: import finished, now `active`.
        package var imported: [String] = []
    }

    /// Gives images left mid-work by a crash their defined state back (Glance: glance/domain/__init__.py and glance/api/v2/image_data.py): an
    /// interrupted upload or stage never committed data, so the image is `queued` again; an
    /// interrupted glance-direct import has its staged data, so it is finished. Run by the data
    /// directory's lock holder at start, before it serves.
    package func recoverInterruptedWork() async throws -> Recovery {
        try await store.coordinator.submit { txn in
            var stuck: [ImageRecord] = []
            for status in [ImageStatus.saving, .uploading, .importing] {
                try self.index.walk([.status(status.rawValue)], descending: true, after: nil, in: txn) { image in
                    if image.status == status { stuck.append(image) }
                    return true
                }
            }
            var recovery = Recovery()
            for var image in stuck {
                if image.status == .uploading && image.staged != nil { continue }
                if image.status == .importing, let task = image.properties["os_glance_import_task"] {
                    if try self.finishImport(task, in: txn).status == "success" {
                        recovery.imported.append(image.id)
                        continue
                    }
                    guard let reread = try self.index.get(image.id, in: txn) else { continue }
                    image = reread
                }
                let previous = image
                Self.requeue(&image)
                image.properties["os_glance_import_task"] = nil
                if let staged = image.staged.flatMap({ SHA256Key(hex: $0.blob) }) { _ = try self.store.release(staged, in: txn) }
                image.staged = nil
                try self.index.put(image, previous: previous, in: txn)
                recovery.requeued.append(image.id)
            }
            return recovery
        }
    }

    /// Releases stages nobody imported within `settings.stageTimeToLive` seconds: the image goes
    /// back to `queued` and its staged data to GC (stale work must not pin space forever).
    /// - Returns: the ids of the images whose stage expired.
    package func expireStages(now: Int = UnixTime.now()) async throws -> [String] {
        let deadline = now - settings.stageTimeToLive
        return try await store.coordinator.submit { txn in
            var stale: [ImageRecord] = []
            try self.index.walk([.status("uploading")], descending: true, after: nil, in: txn) { image in
                if image.status == .uploading, let staged = image.staged, staged.stagedAt <= deadline { stale.append(image) }
                return true
            }
            for var image in stale {
                let previous = image
                if let blob = image.staged.flatMap({ SHA256Key(hex: $0.blob) }) { _ = try self.store.release(blob, in: txn) }
                image.staged = nil
                Self.requeue(&image)
                try self.index.put(image, previous: previous, in: txn)
            }
            return stale.map(\.id)
        }
    }

    /// `method.uri` of a web-download import body; 400 when missing.
    package static func webDownloadURI(_ body: [String: JSONValue]) throws -> String {
        guard case .object(let method)? = body["method"], case .string(let uri)? = method["uri"], !uri.isEmpty else {
            throw CatalogError(.badRequest, "The web-download import method needs 'uri' in 'method'.")
        }
        return uri
    }

    /// Where a glance-download import fetches from: `method.glance_image_id` (400 unless
    /// UUID-like), `method.glance_region` (400 when missing) and `method.glance_service_interface`
    /// (default `public`).
    package static func glanceDownloadSource(_ body: [String: JSONValue]) throws -> (imageID: String, region: String, interface: String) {
        guard case .object(let method)? = body["method"] else { throw CatalogError(.badRequest, "Import request requires a 'method' object.") }
        func text(_ key: String) -> String? {
            if case .string(let value)? = method[key], !value.isEmpty { return value }
            return nil
        }
        guard let id = text("glance_image_id") else { throw CatalogError(.badRequest, "glance-download needs 'glance_image_id' in 'method'.") }
        guard UUID(uuidString: id) != nil else { throw CatalogError(.badRequest, "Requested image id does not look like a UUID: \(id)") }
        guard let region = text("glance_region") else { throw CatalogError(.badRequest, "glance-download needs 'glance_region' in 'method'.") }
        return (id.lowercased(), region, text("glance_service_interface") ?? "public")
    }

    /// `method.name` of an import body; 400 when missing, malformed or not one of `enabled`
    /// (Glance: glance/api/v2/images.py, `import_image`).
    package static func importMethod(_ body: [String: JSONValue], enabled: [ImportMethod]) throws -> ImportMethod {
        guard case .object(let request)? = body["method"], case .string(let name)? = request["name"] else {
            throw CatalogError(.badRequest, "Import request requires a 'method' object with a 'name'.")
        }
        guard let method = ImportMethod(rawValue: name), enabled.contains(method) else {
            let names = enabled.map(\.rawValue).joined(separator: ", ")
            throw CatalogError(.badRequest, "Import method \(name) is not enabled here (enabled: \(names)).")
        }
        for flag in ["all_stores", "all_stores_must_succeed"] {
            switch body[flag] {
            case nil, .null?, .bool?: break
            default: throw CatalogError(.badRequest, "'\(flag)' must be a boolean.")
            }
        }
        if case .bool(false)? = body["all_stores_must_succeed"] {
            throw CatalogError(.badRequest, "'all_stores_must_succeed' can only be false with multiple stores, which are not enabled here.")
        }
        if case .array(let stores)? = body["stores"], !stores.isEmpty {
            throw CatalogError(.conflict, "Multiple stores are not enabled here: do not name 'stores'.")
        }
        return method
    }

    /// Glance's task input for an import: `{"image_id", "import_req", "backend"}` as JSON text.
    static func taskInput(imageID: String, _ body: [String: JSONValue]) throws -> String {
        let input: JSONValue = .object(["image_id": .string(imageID), "import_req": .object(body), "backend": .null])
        return String(decoding: try JSONEncoder().encode(input), as: UTF8.self)
    }
}
