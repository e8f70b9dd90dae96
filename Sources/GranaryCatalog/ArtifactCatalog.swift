import Foundation
import GranaryCodec
package import GranaryIndex
import GranaryLMDB
package import GranaryParsing
package import GranaryStore

/// The Glare artifact domain (reference glare.md §2): typed, versioned artifacts with named
/// blobs, their lifecycle, the uniqueness of (type, name, version) per scope, and Glare's
/// default policy, except that public artifacts are downloadable by everyone.
package final class ArtifactCatalog: Sendable {
    package let store: BlobStore
    package let index: ArtifactIndex
    package let registry: ArtifactTypeRegistry
    /// Server-wide quota values (`max_artifact_number`, `max_uploaded_data[:type]`); a project's
    /// own values override them.
    package let defaultQuotas: [String: Int]

    package init(store: BlobStore, registry: ArtifactTypeRegistry = ArtifactTypeRegistry(), defaultQuotas: [String: Int] = [:]) throws {
        self.store = store
        self.index = try ArtifactIndex(
            environment: store.environment, sortableFields: registry.types.mapValues { $0.fields.filter(\.sortable).map(\.name) })
        self.registry = registry
        self.defaultQuotas = defaultQuotas
    }

    var now: Int { UnixTime.now() }

    // MARK: Rules

    func canSee(_ artifact: ArtifactRecord, _ caller: Caller) -> Bool {
        caller.isAdmin || artifact.visibility == "public" || artifact.owner == caller.projectID
    }

    /// Owner or admin; a public artifact is the admin's alone (Glare's `update`/`delete` rules).
    func canChange(_ artifact: ArtifactRecord, _ caller: Caller) -> Bool {
        caller.isAdmin || (artifact.visibility != "public" && artifact.owner == caller.projectID)
    }

    static func notFound(_ id: String) -> CatalogError { CatalogError(.notFound, "Artifact with id=\(id) not found", exception: "ArtifactNotFound") }

    /// A rule of Glare's default policy that the caller does not meet.
    static func policyFailed(_ rule: String) -> CatalogError {
        CatalogError(.forbidden, "Policy check for artifact:\(rule) failed with user credentials.", exception: "PolicyException")
    }

    /// The artifact `id` of `type` (any type for `all`), if the caller may see it; 404 otherwise,
    /// also when it is of another type (Glare bug 1743969).
    func visible(_ type: String, _ id: String, _ caller: Caller, in txn: borrowing Transaction<some TransactionAccess>) throws -> ArtifactRecord {
        if type != ArtifactTypeRegistry.all { _ = try registry.type(type) }
        guard let artifact = try index.get(id, in: txn), type == ArtifactTypeRegistry.all || artifact.typeName == type,
            canSee(artifact, caller)
        else { throw Self.notFound(id) }
        return artifact
    }

    func changeable(_ type: String, _ id: String, _ caller: Caller, in txn: borrowing WriteTransaction) throws -> ArtifactRecord {
        let artifact = try visible(type, id, caller, in: txn)
        guard canChange(artifact, caller) else {
            throw CatalogError(
                .forbidden, "You are not allowed to change artifact \(id)\(artifact.visibility == "public" ? " (public: admin only)" : "").")
        }
        return artifact
    }

    static func version(_ value: JSONValue?) throws -> SemanticVersion {
        switch value {
        case nil, .null?: return SemanticVersion("0.0.0")!  // checked: a valid literal
        case .string(let text)?:
            guard let version = SemanticVersion(text) else { throw CatalogError(.badRequest, "Version '\(text)' is not a semantic version.") }
            return version
        case .number(let n)?:
            // A whole number is a major version; anything else as Python prints it (1.5 → 1.5.0).
            guard let version = SemanticVersion(DecimalText.integer(exactly: n).map(String.init) ?? String(n)) else {
                throw CatalogError(.badRequest, "Version \(n) is not a semantic version.")
            }
            return version
        default: throw CatalogError(.badRequest, "Version must be a string such as 1.0.0.")
        }
    }

    static func tags(_ value: JSONValue) throws -> [String] {
        guard case .array(let items) = value else { throw CatalogError(.badRequest, "tags must be a list of strings.") }
        var tags: [String] = []
        for item in items {
            guard case .string(let tag) = item, !tag.isEmpty, tag.count <= 255, !tag.contains(","), !tag.contains("/") else {
                throw CatalogError(.badRequest, "A tag is a non-empty string of at most 255 characters without ',' or '/'.")
            }
            if !tags.contains(tag) { tags.append(tag) }
        }
        guard tags.count <= 255 else { throw CatalogError(.badRequest, "At most 255 tags.") }
        return tags
    }

    static func metadata(_ value: JSONValue) throws -> [String: String] {
        guard case .object(let entries) = value else { throw CatalogError(.badRequest, "metadata must be an object of strings.") }
        var result: [String: String] = [:]
        for (key, value) in entries {
            guard case .string(let text) = value else { throw CatalogError(.badRequest, "metadata value of '\(key)' must be a string.") }
            result[key] = text
        }
        guard result.count <= 255 else { throw CatalogError(.badRequest, "At most 255 metadata keys.") }
        return result
    }

    /// Sets one user-settable field from a request value (create or patch), validated.
    static func set(_ key: String, _ value: JSONValue?, on artifact: inout ArtifactRecord, type: ArtifactType) throws {
        switch key {
        case "name":
            // A String field: numbers and booleans read as their text, as Glare coerces them.
            guard let value, case .string(let name)? = try? ArtifactField.coerce(value, to: .string, field: key), !name.isEmpty,
                name.count <= 255, !name.contains("\0")
            else {
                throw CatalogError(.badRequest, "name must be a string of 1 to 255 characters, without NUL.")
            }
            artifact.name = name
        case "version":
            artifact.version = try version(value).description
        case "description":
            switch value {
            case nil, .null?: artifact.description = nil
            case .string(let text)? where text.count <= 4096: artifact.description = text
            default: throw CatalogError(.badRequest, "description must be a string of at most 4096 characters.")
            }
        case "tags": artifact.tags = try value.map(tags) ?? []
        case "metadata": artifact.metadata = try value.map(metadata) ?? [:]
        case "visibility", "status":
            throw CatalogError(.badRequest, "\(key) is not set at create; change it with a patch of /\(key).")
        default:
            if ArtifactTypeRegistry.baseFields.contains(key) { throw CatalogError(.forbidden, "Field \(key) is read-only.") }
            guard let field = type.field(key) else { throw CatalogError(.badRequest, "Artifact type \(type.name) has no field '\(key)'.") }
            // Null puts the default back, as Glare reads an unset field.
            let value = try field.value(from: value ?? .null, typeName: type.name)
            let stored = value == .null ? field.unsetValue : value
            artifact.fields[key] = stored == .null ? nil : stored
        }
    }

    // MARK: Artifacts

    /// `POST /artifacts/{type}`: a drafted, private artifact owned by the caller's project.
    package func create(_ typeName: String, _ body: [String: JSONValue], caller: Caller) async throws -> ArtifactRecord {
        // Glare's create checks (glare/engine.py `create`), in its order.
        guard caller.isAdmin || caller.roles.contains("member") || caller.projectID != nil else {
            throw CatalogError(.forbidden, "It's forbidden to anonymous users to create artifacts.")
        }
        guard let given = body["name"], case .string(let name)? = try? ArtifactField.coerce(given, to: .string, field: "name"), !name.isEmpty else {
            throw CatalogError(.badRequest, "Name must be specified at creation.")
        }
        for key in ["visibility", "status", "display_type_name"] where body[key] != nil {
            throw CatalogError(.badRequest, "\(key) is not allowed in a request at creation.")
        }
        if typeName == ArtifactTypeRegistry.all { throw ArtifactTypeRegistry.readOnly }
        let type = try registry.type(typeName)
        var artifact = ArtifactRecord(
            id: UUID().uuidString.lowercased(), typeName: typeName, name: name, version: "0.0.0", owner: caller.projectID, now: now)
        artifact.description = ""
        for field in type.fields where !field.isBlob && field.unsetValue != .null { artifact.fields[field.name] = field.unsetValue }
        // Then each key as a patch of the new (drafted) artifact would be checked.
        for key in body.keys.sorted() {
            if type.field(key)?.isBlob == true {
                throw CatalogError(.badRequest, "Cannot add blob with this request. Use special Blob API for that.")
            }
            try Self.requireChangeAllowed(key, of: artifact, type: type)
        }
        for (key, value) in body.sorted(by: { $0.key < $1.key }) { try Self.set(key, value, on: &artifact, type: type) }
        let created = artifact
        return try await store.coordinator.submit { txn in
            for (key, value) in created.fields { try self.requireLinkedArtifacts(key, value, type: type, in: txn) }
            try self.checkCountQuota(created, in: txn)
            do { try self.index.put(created, previous: nil, in: txn) } catch is UniquenessConflict { throw Self.duplicate(created) }
            return created
        }
    }

    /// Glare's link check: an internal link (`/artifacts/{type}/{id}`) must name an artifact
    /// that exists.
    func requireLinkedArtifacts(_ key: String, _ value: JSONValue, type: ArtifactType, in txn: borrowing WriteTransaction) throws {
        guard let field = type.field(key) else { return }
        for link in field.internalLinks(in: value) where try index.get(link, in: txn) == nil {
            throw CatalogError(
                .badRequest,
                "Type: \(type.name). Field: \(key). Exception: Link is not valid in field \(key), because artifact with id \(link) doesn't exist")
        }
    }

    static func duplicate(_ artifact: ArtifactRecord) -> CatalogError {
        CatalogError(
            .conflict,
            "Artifact with name=\(artifact.name) and version=\(artifact.version) already exists for this \(artifact.visibility == "public" ? "public scope" : "owner")."
        )
    }

    package func show(_ type: String, _ id: String, caller: Caller) throws -> ArtifactRecord {
        try store.environment.read { txn in try visible(type, id, caller, in: txn) }
    }

    /// `DELETE /artifacts/{type}/{id}`: the record and its blobs' references go in one commit
    /// (external data, when there is some, is never touched).
    package func delete(_ type: String, _ id: String, caller: Caller) async throws {
        try await store.coordinator.submit { txn in
            let artifact = try self.changeable(type, id, caller, in: txn)
            if type == ArtifactTypeRegistry.all { throw ArtifactTypeRegistry.readOnly }
            if artifact.status == .deactivated && !caller.isAdmin {
                throw CatalogError(.forbidden, "Only administrators delete deactivated artifacts.")
            }
            if artifact.isSaving { throw CatalogError(.conflict, "Artifact \(id) has an upload in progress.") }
            try self.index.delete(artifact, in: txn)
            for blob in artifact.storeBlobs.compactMap(SHA256Key.init(hex:)) { _ = try self.store.release(blob, in: txn) }
        }
    }

    /// Changes the artifact in one write transaction, after the caller's right to change it
    /// is checked; `change` edits it in place (uniqueness is re-checked by the index).
    func modify<R: Sendable>(
        _ type: String, _ id: String, caller: Caller, _ change: @escaping @Sendable (inout ArtifactRecord, borrowing WriteTransaction) throws -> R
    ) async throws -> R {
        try await store.coordinator.submit { txn in
            let previous = try self.changeable(type, id, caller, in: txn)
            var artifact = previous
            // Stamped first, so that the artifact a change returns (the answer) is the one stored.
            artifact.updatedAt = UnixTime.now()
            let result = try change(&artifact, txn)
            do { try self.index.put(artifact, previous: previous, in: txn) } catch is UniquenessConflict { throw Self.duplicate(artifact) }
            return result
        }
    }

    /// Which store blobs are held by artifacts (fsck marks from them).
    package func dataHolders() throws -> [SHA256Key: [String]] {
        try store.environment.read { txn in
            var holders: [SHA256Key: [String]] = [:]
            try index.newestFirst(type: nil, in: txn) { artifact in
                for blob in artifact.storeBlobs.compactMap(SHA256Key.init(hex:)) { holders[blob, default: []].append(artifact.id) }
                return true
            }
            return holders
        }
    }
}
