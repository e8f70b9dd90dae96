import GranaryIndex
import GranaryLMDB
package import GranaryParsing
import GranaryStore

/// Loading namespace files in Glance's catalog format (`etc/metadefs/*.json`, what
/// `glance-manage db_load_metadefs` reads): each file is one namespace in the shape of a
/// create body. An operator action, so no caller: the namespaces get the file's `owner` or none.
extension MetadefCatalog {
    /// What to do with a namespace that exists already (Glance's `--merge`, `--prefer_new`,
    /// `--overwrite`).
    package enum LoadMode: Sendable {
        /// Leave it as it is (Glance's default).
        case skipExisting
        /// Add the resource types, properties, objects and tags it lacks; with `preferNew`, the
        /// file's version replaces the stored one of each entry and of the namespace's fields.
        case merge(preferNew: Bool)
        /// Replace it with the file's namespace (its creation time kept).
        case overwrite
    }

    package enum LoadOutcome: String, Sendable, Encodable {
        case created, skipped, merged, overwritten
    }

    /// Loads one namespace file's parsed JSON, in one transaction. A malformed namespace is a
    /// ``CatalogError`` (bad request) naming the field; nothing is stored for it.
    package func load(_ body: [String: JSONValue], mode: LoadMode) async throws -> (namespace: String, outcome: LoadOutcome) {
        var owner: String?
        if let value = body["owner"] { owner = try Self.optionalString(value, "owner") }
        let loaded = try Self.namespace(from: body, owner: owner, now: now)
        let now = self.now
        return try await store.coordinator.submit { txn in
            guard var existing = try self.index.get(loaded.namespace, in: txn) else {
                try self.index.put(loaded, in: txn)
                return (loaded.namespace, .created)
            }
            switch mode {
            case .skipExisting:
                return (loaded.namespace, .skipped)
            case .overwrite:
                var replaced = loaded
                replaced.createdAt = existing.createdAt
                try self.index.put(replaced, in: txn)
                return (loaded.namespace, .overwritten)
            case .merge(let preferNew):
                if preferNew {
                    try Self.apply(body, to: &existing)
                    existing.owner = loaded.owner ?? existing.owner
                }
                for association in loaded.resourceTypes {
                    if let at = existing.resourceTypes.firstIndex(where: { $0.name == association.name }) {
                        if preferNew { existing.resourceTypes[at] = association }
                    } else {
                        existing.resourceTypes.append(association)
                    }
                }
                existing.properties.merge(loaded.properties) { old, new in preferNew ? new : old }
                existing.objects.merge(loaded.objects) { old, new in preferNew ? new : old }
                existing.tags.merge(loaded.tags) { old, new in preferNew ? new : old }
                existing.updatedAt = now
                try self.index.put(existing, in: txn)
                return (loaded.namespace, .merged)
            }
        }
    }
}
