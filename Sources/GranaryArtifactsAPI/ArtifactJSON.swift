import Foundation
import GranaryCatalog
import GranaryHTTP
import GranaryIndex
import GranaryParsing

/// Artifacts and type schemas as Glare shows them (reference glare.md §2).
enum ArtifactJSON {
    static func timestamp(_ seconds: Int?) -> Any { seconds.map(JSONWriter.timestamp) ?? NSNull() }

    /// A blob value; an internal blob's URL is its download path, never a store address.
    static func blob(_ value: ArtifactBlob, path: String) -> [String: Any] {
        [
            "url": value.external ? value.url ?? path : path, "size": value.size ?? NSNull(), "md5": value.md5 ?? NSNull(),
            "sha1": value.sha1 ?? NSNull(),
            "sha256": value.sha256 ?? NSNull(), "external": value.external, "status": value.status,
            "content_type": value.contentType ?? NSNull(),
        ]
    }

    static func object(_ artifact: ArtifactRecord, type: ArtifactType?, allType: Bool = false) -> [String: Any] {
        var object: [String: Any] = [
            "id": artifact.id, "name": artifact.name, "version": artifact.version, "owner": artifact.owner ?? NSNull(),
            "visibility": artifact.visibility, "status": artifact.status.rawValue, "description": artifact.description ?? NSNull(),
            "tags": artifact.tags, "metadata": artifact.metadata, "created_at": timestamp(artifact.createdAt),
            "updated_at": timestamp(artifact.updatedAt), "activated_at": timestamp(artifact.activatedAt),
            "display_type_name": type?.displayName ?? artifact.typeName,
        ]
        // Through `all`: the base fields and `type_name` only (Glare's All type).
        if allType { object["type_name"] = artifact.typeName }
        let base = "/artifacts/\(artifact.typeName)/\(artifact.id)/"
        for field in allType ? [] : type?.fields ?? [] {
            switch field.type {
            case .blob:
                object[field.name] = artifact.blobs[field.name].map { blob($0, path: base + field.name) } ?? NSNull()
            case .folder:
                let entries = artifact.folders[field.name] ?? [:]
                object[field.name] = Dictionary(
                    uniqueKeysWithValues: entries.map { ($0.key, blob($0.value, path: base + field.name + "/" + $0.key)) })
            default:
                object[field.name] = (artifact.fields[field.name] ?? field.unsetValue).foundationObject
            }
        }
        return object
    }

    /// The JSON schema of a type, with Glare's extra keywords (`glareType`, `mutable`,
    /// `sortable`, `required_on_activate`, `filter_ops`, `readOnly`).
    static func schema(_ type: ArtifactType) -> [String: Any] {
        func property(
            _ json: [String], glare: String, readOnly: Bool, mutable: Bool, sortable: Bool, filterOps: [String], extra: [String: Any] = [:]
        ) -> [String: Any] {
            [
                "type": json + ["null"], "glareType": glare, "readOnly": readOnly, "mutable": mutable, "sortable": sortable,
                "required_on_activate": false, "filter_ops": filterOps,
            ].merging(extra) { _, new in new }
        }
        var properties: [String: Any] = [
            "id": property(["string"], glare: "String", readOnly: true, mutable: false, sortable: true, filterOps: ["eq", "neq", "in"]),
            "name": property(["string"], glare: "String", readOnly: false, mutable: false, sortable: true, filterOps: ["eq", "neq", "in", "like"]),
            "version": property(
                ["string"], glare: "String", readOnly: false, mutable: false, sortable: true,
                filterOps: ["eq", "neq", "in", "gt", "gte", "lt", "lte"]),
            "owner": property(["string"], glare: "String", readOnly: true, mutable: false, sortable: true, filterOps: ["eq", "neq", "in"]),
            "visibility": property(
                ["string"], glare: "String", readOnly: false, mutable: true, sortable: true, filterOps: ["eq", "neq", "in"],
                extra: ["enum": ["private", "public"]]),
            "status": property(
                ["string"], glare: "String", readOnly: false, mutable: true, sortable: true, filterOps: ["eq", "neq", "in"],
                extra: ["enum": ["drafted", "active", "deactivated", "deleted"]]),
            "description": property(["string"], glare: "String", readOnly: false, mutable: true, sortable: false, filterOps: []),
            "tags": property(["array"], glare: "StringList", readOnly: false, mutable: true, sortable: false, filterOps: []),
            "metadata": property(["object"], glare: "StringDict", readOnly: false, mutable: false, sortable: false, filterOps: ["eq", "in"]),
            "created_at": property(["string"], glare: "DateTime", readOnly: true, mutable: false, sortable: true, filterOps: ["lt", "gt"]),
            "updated_at": property(["string"], glare: "DateTime", readOnly: true, mutable: false, sortable: true, filterOps: ["lt", "gt"]),
            "activated_at": property(["string"], glare: "DateTime", readOnly: true, mutable: false, sortable: true, filterOps: ["lt", "gt"]),
            "display_type_name": property(["string"], glare: "String", readOnly: true, mutable: false, sortable: true, filterOps: ["eq"]),
        ]
        if type.name == ArtifactTypeRegistry.all {
            properties["type_name"] = property(
                ["string"], glare: "String", readOnly: false, mutable: false, sortable: true, filterOps: ["like", "eq", "neq", "in"],
                extra: ["maxLength": 255, "description": "Name of artifact type."])
        }
        for field in type.fields {
            let (json, glare): ([String], String) =
                switch field.type {
                case .string: (["string"], "String")
                case .integer: (["integer"], "Integer")
                case .number: (["number"], "Float")
                case .boolean: (["boolean"], "Boolean")
                case .list: (["array"], "StringList")
                case .dict: (["object"], "StringDict")
                case .blob: (["object"], "Blob")
                case .folder: (["object"], "Folder")
                }
            var entry = property(json, glare: glare, readOnly: false, mutable: field.mutable, sortable: field.sortable, filterOps: field.operators)
            entry["required_on_activate"] = field.requiredOnActivate
            if let allowed = field.allowedValues { entry["enum"] = allowed + [NSNull()] }
            if field.type == .string { entry["maxLength"] = field.maxLength ?? 255 }
            if let pattern = field.pattern { entry["pattern"] = pattern }
            if let minimum = field.minimum { entry["minimum"] = minimum }
            if let maximum = field.maximum { entry["maximum"] = maximum }
            if field.isBlob { entry["maxBlobSize"] = field.blobLimit }
            if field.type == .folder { entry["maxFolderSize"] = field.folderLimit }
            if let description = field.description { entry["description"] = description }
            properties[field.name] = entry
        }
        return [
            "name": type.name, "version": type.version, "title": "Artifact type \(type.displayName) of version \(type.version)",
            "type": "object", "required": ["name"], "properties": properties,
        ]
    }

    static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
