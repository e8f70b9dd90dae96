import Foundation
package import GranaryIndex
import GranaryLMDB
package import GranaryParsing
import GranaryStore

extension ImageCatalog {
    /// Applies a JSON-patch to an image, all or nothing, in one transaction (Glance: glance/api/v2/images.py, `RequestDeserializer.update`).
    ///
    /// - Parameter draft4: the operations came as `application/openstack-images-v2.0-json-patch`
    ///   (tempest's media type), where `add` on an existing custom property is a 409.
    package func update(_ id: String, operations: [ImagePatchOperation], draft4: Bool, caller: Caller) async throws -> ImageRecord {
        let now = UnixTime.now()
        let protections = settings.propertyProtections
        let updated = try await store.coordinator.submit { txn in
            var image = try self.writable(id, caller, in: txn)
            let previous = image
            for operation in operations {
                try Self.apply(operation, to: &image, draft4: draft4, caller: caller, protections: protections)
            }
            if image.properties.count > ImageRules.propertyQuota {
                throw CatalogError(.payloadTooLarge, "Maximum number of image properties (\(ImageRules.propertyQuota)) exceeded.")
            }
            if image != previous {
                image.updatedAt = now
                try self.index.put(image, previous: previous, in: txn)
            }
            return image
        }
        return shown(updated, to: caller)
    }

    static let patchReadOnly: Set<String> = ImageRules.readOnly.union(["id"])
    static let baseAttributes: Set<String> = [
        "name", "visibility", "protected", "os_hidden", "owner", "container_format", "disk_format", "min_disk", "min_ram", "tags",
    ]

    /// Applies one operation. Under property protections a custom property the caller may not
    /// read does not exist for it; changing one it may read needs `update`, adding one `create`
    /// and removing one `delete` (403 otherwise, as Glance).
    static func apply(
        _ operation: ImagePatchOperation, to image: inout ImageRecord, draft4: Bool, caller: Caller, protections: PropertyProtections?
    ) throws(CatalogError) {
        // Locations are not exposed (Glance's show_multiple_locations off): any operation on them,
        // `/locations` or an item of it, is refused as Glance refuses it.
        if operation.path == "/locations" || operation.path.hasPrefix("/locations/") {
            let verb = [.add: "add", .remove: "remove"][operation.kind] ?? "update"
            throw CatalogError(.forbidden, "It's not allowed to \(verb) locations if locations are invisible.")
        }
        let key: String
        do {
            key = try ImagePatchOperation.attribute(of: operation.path)
        } catch {
            throw CatalogError(.badRequest, error.description)
        }
        if patchReadOnly.contains(key) { throw CatalogError(.forbidden, "Attribute '\(key)' is read-only.") }
        if ImageRules.reserved.contains(key) || key.hasPrefix("os_glance") { throw CatalogError(.forbidden, "Attribute '\(key)' is reserved.") }
        let isBase = baseAttributes.contains(key)
        if (key == "container_format" || key == "disk_format") && image.status != .queued && image.status != .importing {
            throw CatalogError(.forbidden, "Attribute \(key) can be only replaced for a queued image.")
        }
        let exists = image.properties[key] != nil && protections.map { $0.allows(.read, key, caller) } ?? true
        func require(_ needed: PropertyProtections.Operation) throws(CatalogError) {
            if let protections, !protections.allows(needed, key, caller) { throw CatalogError(.forbidden, "Attribute '\(key)' is reserved.") }
        }
        switch operation.kind {
        case .remove:
            if isBase { throw CatalogError(.forbidden, "Property \(key) may not be removed.") }
            guard exists else { throw CatalogError(.conflict, "Property \(key) does not exist.") }
            try require(.delete)
            image.properties.removeValue(forKey: key)
        case .add, .replace:
            guard let value = operation.value else { throw CatalogError(.badRequest, "Operation \(operation.kind.rawValue) needs a value.") }
            if !isBase {
                if operation.kind == .replace && !exists { throw CatalogError(.conflict, "Property \(key) does not exist.") }
                if operation.kind == .add && draft4 && exists { throw CatalogError(.conflict, "Property \(key) already present.") }
                try require(exists ? .update : .create)
            }
            if key == "owner" && !caller.isAdmin { throw CatalogError(.forbidden, "Owner can't be updated by non admin.") }
            try ImageRules.set(key, value, on: &image, caller: caller)
        }
    }
}
