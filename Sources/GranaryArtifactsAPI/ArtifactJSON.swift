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
        if let key = type?.upperCaseNameKey { object[key] = artifact.name.uppercased() }
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

    static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
