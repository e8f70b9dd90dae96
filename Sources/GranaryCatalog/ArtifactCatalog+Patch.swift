import Foundation
package import GranaryIndex
import GranaryLMDB
package import GranaryParsing

extension ArtifactCatalog {
    /// The part of an artifact a patch may address: base fields users set and the type's
    /// non-blob fields (null when unset). Blobs are not in it: a patch of a blob is a 400.
    static func editable(_ artifact: ArtifactRecord, _ type: ArtifactType) -> [String: JSONValue] {
        var view: [String: JSONValue] = [
            "name": .string(artifact.name), "version": .string(artifact.version),
            "description": artifact.description.map(JSONValue.string) ?? .null, "tags": .array(artifact.tags.map(JSONValue.string)),
            "metadata": .object(artifact.metadata.mapValues(JSONValue.string)), "visibility": .string(artifact.visibility),
            "status": .string(artifact.status.rawValue),
        ]
        for field in type.fields where !field.isBlob { view[field.name] = artifact.fields[field.name] ?? .null }
        return view
    }

    /// Base fields that stay changeable after activation (Glare: `mutable=True` on these).
    static let mutableBaseFields: Set<String> = ["description", "tags", "status", "visibility"]

    /// `PATCH /artifacts/{type}/{id}` (RFC 6902): the patch is applied to the editable view,
    /// then each changed field is checked and set: read-only and system fields 403, removed
    /// fields 400, fields that are not mutable 403 once the artifact is active, status and
    /// visibility through their transitions (Glare: glare/objects/base.py and glare/engine.py). All in one transaction.
    package func update(_ typeName: String, _ id: String, patch: JSONValue, caller: Caller) async throws -> ArtifactRecord {
        try await modify(typeName, id, caller: caller) { artifact, txn in
            let type = try self.registry.type(artifact.typeName)
            let before = Self.editable(artifact, type)
            let patched: JSONValue
            do {
                patched = try JSONPatch.apply(patch, to: .object(before))
            } catch let failure as BadRequest {
                throw CatalogError(.badRequest, failure.description)
            }
            guard case .object(let after) = patched else {
                throw CatalogError(.badRequest, "A patch must leave the artifact an object.")
            }
            let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
            guard artifact.status != .deactivated || changed.subtracting(["status"]).isEmpty else {
                throw CatalogError(.forbidden, "A deactivated artifact cannot be changed.")
            }
            for key in changed.sorted() where key != "status" && key != "visibility" {
                guard let value = after[key] else { throw CatalogError(.badRequest, "Field \(key) cannot be removed (set it to null instead).") }
                let mutable = Self.mutableBaseFields.contains(key) || type.field(key)?.mutable == true
                if artifact.status == .active && !mutable {
                    throw CatalogError(.forbidden, "Field \(key) is not mutable: the artifact is active.")
                }
                try Self.set(key, value, on: &artifact, type: type)
            }
            if changed.contains("status") { try self.transition(&artifact, to: after["status"], type: type, caller: caller) }
            if changed.contains("visibility") { try self.changeVisibility(&artifact, to: after["visibility"], caller: caller, in: txn) }
            return artifact
        }
    }

    /// drafted → active (owner or admin; required fields set, no upload in progress), active ⇄
    /// deactivated (admin). Anything else is 403: deletion is a DELETE, and nothing returns to
    /// drafted.
    func transition(_ artifact: inout ArtifactRecord, to value: JSONValue?, type: ArtifactType, caller: Caller) throws {
        guard case .string(let text)? = value, let target = ArtifactStatus(rawValue: text), target != .deleted else {
            throw CatalogError(.badRequest, "status must be one of drafted, active, deactivated.")
        }
        guard ArtifactLifecycle.allows(artifact.status, to: target) else {
            throw CatalogError(.forbidden, "Status transition from \(artifact.status) to \(target) is not allowed.")
        }
        switch (artifact.status, target) {
        case (.drafted, .active):
            for field in type.fields where field.requiredOnActivate {
                let set =
                    field.isBlob
                    ? (artifact.blobs[field.name] != nil || artifact.folders[field.name]?.isEmpty == false) : artifact.fields[field.name] != nil
                guard set else { throw CatalogError(.forbidden, "Field \(field.name) is required to activate the artifact.") }
            }
            guard !artifact.isSaving else { throw CatalogError(.conflict, "A blob of the artifact is still being uploaded.") }
            artifact.activatedAt = UnixTime.now()
        case (.active, .deactivated), (.deactivated, .active):
            guard caller.isAdmin else { throw CatalogError(.forbidden, "Only administrators deactivate and reactivate artifacts.") }
        default:
            throw CatalogError(.forbidden, "Status transition from \(artifact.status) to \(target) is not allowed.")
        }
        artifact.status = target
    }

    /// private → public (publish: admin, active artifacts only; the public scope must not
    /// hold the same name and version). public → private is not allowed.
    func changeVisibility(_ artifact: inout ArtifactRecord, to value: JSONValue?, caller: Caller, in txn: borrowing WriteTransaction) throws {
        guard case .string(let target)? = value, ["public", "private"].contains(target) else {
            throw CatalogError(.badRequest, "visibility must be public or private.")
        }
        guard artifact.visibility == "private", target == "public" else {
            throw CatalogError(.forbidden, "A public artifact cannot be made private.")
        }
        guard caller.isAdmin else { throw CatalogError(.forbidden, "Only administrators publish artifacts.") }
        guard artifact.status == .active else { throw CatalogError(.forbidden, "Only active artifacts can be published.") }
        artifact.visibility = "public"
    }
}
