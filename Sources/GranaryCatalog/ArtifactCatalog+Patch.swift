import Foundation
package import GranaryIndex
import GranaryLMDB
package import GranaryParsing

extension ArtifactCatalog {
    /// The artifact as a patch sees it: base fields (system ones too: a patch of them is a 403,
    /// not a missing path) and the type's non-blob fields (null when unset). Blobs are not in it:
    /// a patch of a blob is a 400.
    static func editable(_ artifact: ArtifactRecord, _ type: ArtifactType) -> [String: JSONValue] {
        var view: [String: JSONValue] = [
            "id": .string(artifact.id), "owner": artifact.owner.map(JSONValue.string) ?? .null,
            "created_at": .number(Double(artifact.createdAt)), "updated_at": .number(Double(artifact.updatedAt)),
            "activated_at": artifact.activatedAt.map { .number(Double($0)) } ?? .null, "display_type_name": .string(type.displayName),
            "name": .string(artifact.name), "version": .string(artifact.version),
            "description": artifact.description.map(JSONValue.string) ?? .null, "tags": .array(artifact.tags.map(JSONValue.string)),
            "metadata": .object(artifact.metadata.mapValues(JSONValue.string)), "visibility": .string(artifact.visibility),
            "status": .string(artifact.status.rawValue),
        ]
        for field in type.fields where !field.isBlob { view[field.name] = artifact.fields[field.name] ?? field.unsetValue }
        return view
    }

    /// Base fields users may change after activation (Glare: `mutable=True`); status and
    /// visibility change through their transitions.
    static let mutableBaseFields: Set<String> = ["description", "tags"]
    /// Base fields only the server sets (Glare: `system=True`).
    static let systemBaseFields: Set<String> = ["id", "owner", "created_at", "updated_at", "activated_at", "display_type_name"]

    /// Glare's `validate_change_allowed` (glare/common/utils.py), in its order: an unknown field
    /// 400; any field of an artifact neither drafted nor active 403; a system field 403; a field
    /// that is not mutable, once the artifact is active, 403.
    static func requireChangeAllowed(_ name: String, of artifact: ArtifactRecord, type: ArtifactType) throws(CatalogError) {
        let field = type.field(name)
        guard field != nil || ArtifactTypeRegistry.baseFields.contains(name) else {
            throw CatalogError(.badRequest, "Cannot add new field '\(name)' to artifact.")
        }
        guard artifact.status == .active || artifact.status == .drafted else {
            throw CatalogError(.forbidden, "Forbidden to change fields if artifact is not active or drafted.")
        }
        if systemBaseFields.contains(name) || field?.system == true {
            throw CatalogError(.forbidden, "Forbidden to specify system field \(name). It is not available for modifying by users.")
        }
        if artifact.status == .active && !(mutableBaseFields.contains(name) || field?.mutable == true) {
            throw CatalogError(.forbidden, "Forbidden to change field '\(name)' after activation.")
        }
    }

    /// `PATCH /artifacts/{type}/{id}` (RFC 6902), as Glare's `_apply_patch` (glare/engine.py):
    /// the operations one at a time, in order, each checked against the artifact as the earlier
    /// ones left it (so `[status → active, description]` reactivates, then edits). A blob is
    /// not patched (400), a field not removed (400); status and visibility go through their
    /// transitions, every other field through ``requireChangeAllowed(_:of:type:)``, changed or
    /// not. All in one transaction: a refused operation changes nothing.
    package func update(_ typeName: String, _ id: String, patch: JSONValue, caller: Caller) async throws -> ArtifactRecord {
        guard case .array(let operations) = patch else { throw CatalogError(.badRequest, "Json Patch body is malformed") }
        return try await modify(typeName, id, caller: caller) { artifact, txn in
            // Through `all` only base fields are there, and any change is refused.
            let throughAll = typeName == ArtifactTypeRegistry.all
            let type = throughAll ? ArtifactTypeRegistry.allType : try self.registry.type(artifact.typeName)
            let original = artifact
            for operation in operations {
                guard case .object(let fields) = operation, case .string(let op)? = fields["op"], case .string(let path)? = fields["path"] else {
                    throw CatalogError(.badRequest, "Json Patch body is malformed")
                }
                let segments = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
                let name = segments.dropFirst().first.map(String.init) ?? ""
                if type.field(name)?.isBlob == true {
                    throw CatalogError(.badRequest, "Cannot add blob with this request. Use special Blob API for that.")
                }
                let before = Self.editable(artifact, type)
                let patched: JSONValue
                do {
                    patched = try JSONPatch.apply(.array([operation]), to: .object(before))
                } catch let failure as BadRequest {
                    throw CatalogError(.badRequest, failure.description)
                }
                guard case .object(let after) = patched else { throw CatalogError(.badRequest, "A patch must leave the artifact an object.") }
                if op == "remove" && segments.count == 2 { throw CatalogError(.badRequest, "Cannot remove field '\(name)' from artifact.") }
                switch name {
                case "status": try self.transition(&artifact, to: after["status"], type: type, caller: caller)
                case "visibility": try self.changeVisibility(&artifact, to: after["visibility"], caller: caller, in: txn)
                default:
                    // The target is checked even when its value stays; a `move` changes its source too.
                    let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
                    for key in Set([name]).union(changed).sorted() {
                        try Self.requireChangeAllowed(key, of: artifact, type: type)
                        if before[key] != after[key] {
                            try Self.set(key, after[key] ?? .null, on: &artifact, type: type)
                            try self.requireLinkedArtifacts(key, artifact.fields[key] ?? .null, type: type, in: txn)
                        }
                    }
                }
            }
            if throughAll && artifact != original { throw ArtifactTypeRegistry.readOnly }
            return artifact
        }
    }

    /// Glare's status transitions (`validate_status_transition`): drafted → active (owner or
    /// admin; required fields set, no upload in progress), active ⇄ deactivated (admin), the
    /// same status again (deactivated again: admin). An unknown status is 400, `deleted` 403
    /// (deletion is a DELETE); nothing returns to drafted (403; Glare answers 400 there by a bug).
    func transition(_ artifact: inout ArtifactRecord, to value: JSONValue?, type: ArtifactType, caller: Caller) throws {
        guard case .string(let text)? = value, let target = ArtifactStatus(rawValue: text) else {
            let shown = if case .string(let text)? = value { text } else { "None" }
            throw CatalogError(.badRequest, "Unknown artifact status: \(shown).")
        }
        if target == .deleted {
            throw CatalogError(.forbidden, "Cannot delete artifact with PATCH requests. Use special API to do this.")
        }
        guard ArtifactLifecycle.allows(artifact.status, to: target) else {
            throw CatalogError(
                .forbidden,
                target == .deactivated
                    ? "Cannot deactivate artifact if it's not active." : "Cannot change status to '\(target)' from '\(artifact.status)'.")
        }
        switch (artifact.status, target) {
        case (.drafted, .active):
            for field in type.fields where field.requiredOnActivate {
                // Glare's test is `is None`: a folder (default `{}`) always passes.
                let set =
                    switch field.type {
                    case .folder: true
                    case .blob: artifact.blobs[field.name] != nil
                    default: (artifact.fields[field.name] ?? field.unsetValue) != .null
                    }
                guard set else { throw CatalogError(.forbidden, "'\(field.name)' field value must be set before activation.") }
            }
            guard !artifact.isSaving else { throw CatalogError(.conflict, "You cannot change artifact status if it has uploading blobs.") }
            artifact.activatedAt = UnixTime.now()
        case (.deactivated, .active):
            guard caller.isAdmin else { throw Self.policyFailed("reactivate") }
        case (_, .deactivated):
            guard caller.isAdmin else { throw Self.policyFailed("deactivate") }
        default: break  // the same status again
        }
        artifact.status = target
    }

    /// private → public (publish: admin, active artifacts only; the public scope must not
    /// hold the same name and version). public → private is not allowed.
    func changeVisibility(_ artifact: inout ArtifactRecord, to value: JSONValue?, caller: Caller, in txn: borrowing WriteTransaction) throws {
        guard case .string(let target)? = value, ["public", "private"].contains(target) else {
            let shown = if case .string(let text)? = value { text } else { "None" }
            throw CatalogError(.badRequest, "Unknown artifact visibility: \(shown).")
        }
        if artifact.visibility == target { return }
        guard target == "public" else { throw CatalogError(.forbidden, "You are not authorized to complete this action.") }
        guard artifact.status == .active else {
            throw CatalogError(.forbidden, "Cannot change visibility to 'public' if artifact is not active.")
        }
        guard caller.isAdmin else { throw Self.policyFailed("publish") }
        artifact.visibility = "public"
    }
}
