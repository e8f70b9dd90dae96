import Foundation
import GranaryCatalog
import GranaryParsing

/// Type schemas as Glare generates them (`BaseArtifact.gen_schemas` and `_schema_field`): the
/// base fields' fixed properties, then each field's from its kind and validators, with Glare's
/// extra keywords (`glareType`, `filter_ops`, and `mutable`, `sortable`, `readOnly` only when
/// true, `required_on_activate` only when false).
enum ArtifactSchema {
    static func schema(_ type: ArtifactType) -> [String: Any] {
        var properties = baseProperties
        if type.name == ArtifactTypeRegistry.all {
            properties["type_name"] = [
                "description": "Name of artifact type.", "filter_ops": ["like", "eq", "neq", "in"], "glareType": "String", "maxLength": 255,
                "sortable": true, "type": ["string", "null"],
            ]
        }
        for field in type.fields { properties[field.name] = property(field) }
        return [
            "name": type.name, "display_name": type.displayName, "version": type.version,
            "title": "Artifact type \(type.name) of version \(type.version)", "type": "object", "required": ["name"], "properties": properties,
        ]
    }

    static func property(_ field: ArtifactField) -> [String: Any] {
        var schema: [String: Any] = ["type": [field.type.jsonType, "null"], "filter_ops": field.operators]
        switch field.type {
        case .list:
            schema["glareType"] = field.element.glareName + "List"
            schema["maxItems"] = field.itemLimit
            if field.uniqueItems { schema["uniqueItems"] = true }
            schema["items"] = element(field)
        case .dict:
            schema["glareType"] = field.element.glareName + "Dict"
            schema["maxProperties"] = field.itemLimit
            if let keys = field.allowedKeys {
                var nullable = element(field)
                nullable["type"] = [field.element.jsonType, "null"]
                schema["properties"] = Dictionary(uniqueKeysWithValues: keys.map { ($0, nullable) })
                schema["additionalProperties"] = false
            } else {
                schema["additionalProperties"] = element(field)
            }
        case .blob:
            schema.merge(blob) { _, new in new }
            schema["glareType"] = "Blob"
        case .folder:
            schema["glareType"] = "BlobDict"
            schema["maxProperties"] = field.itemLimit
            schema["additionalProperties"] = blob
        default:
            schema["glareType"] = field.type.glareName
            if let allowed = field.allowedValues { schema["enum"] = allowed }
            if field.type == .string, let limit = field.stringLimit { schema["maxLength"] = limit }
            if let pattern = field.pattern { schema["pattern"] = pattern }
            if let minimum = field.minimum { schema["minimum"] = number(minimum) }
            if let maximum = field.maximum { schema["maximum"] = number(maximum) }
        }
        if field.system { schema["readOnly"] = true }
        if let description = field.description { schema["description"] = description }
        if field.mutable { schema["mutable"] = true }
        if field.sortable { schema["sortable"] = true }
        if !field.requiredOnActivate { schema["required_on_activate"] = false }
        if field.unsetValue != .null { schema["default"] = field.unsetValue.foundationObject }
        if let metadata = field.metadata { schema["metadata"] = metadata }
        return schema
    }

    /// The schema of a list's item or a dict's value (strings capped at 255 characters).
    static func element(_ field: ArtifactField) -> [String: Any] {
        field.element == .string ? ["type": "string", "maxLength": 255] : ["type": field.element.jsonType]
    }

    static func number(_ n: Double) -> Any { DecimalText.integer(exactly: n).map { $0 as Any } ?? n }

    /// What a blob value holds (Glare's `output_blob_schema`).
    static var blob: [String: Any] {
        [
            "type": ["object", "null"],
            "properties": [
                "size": ["type": ["number", "null"]], "md5": ["type": ["string", "null"]], "sha1": ["type": ["string", "null"]],
                "sha256": ["type": ["string", "null"]], "external": ["type": "boolean"], "status": ["type": "string", "enum": ["saving", "active"]],
                "content_type": ["type": "string"],
            ],
            "required": ["size", "md5", "sha1", "sha256", "external", "status", "content_type"], "additionalProperties": false,
        ]
    }

    /// The base fields every type has, as Glare's schemas show them (a constant document; a
    /// test compares it with Glare's).
    static var baseProperties: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(baseText.utf8))) as? [String: Any] ?? [:]
    }

    static let baseText = #"""
        {
            "activated_at": {"description": "Datetime when artifact has became active.", "filter_ops": ["lt", "gt"], "format": "date-time", "glareType": "DateTime", "readOnly": true, "required_on_activate": false, "sortable": true, "type": ["string", "null"]},
            "created_at": {"description": "Datetime when artifact has been created.", "filter_ops": ["lt", "gt"], "format": "date-time", "glareType": "DateTime", "readOnly": true, "sortable": true, "type": "string"},
            "description": {"default": "", "description": "Artifact description.", "filter_ops": [], "glareType": "String", "maxLength": 4096, "mutable": true, "required_on_activate": false, "type": ["string", "null"]},
            "display_type_name": {"description": "Display name of artifact type.", "filter_ops": ["like", "eq", "neq", "in"], "glareType": "String", "maxLength": 255, "readOnly": true, "sortable": true, "type": ["string", "null"]},
            "id": {"description": "Artifact UUID.", "filter_ops": ["eq", "neq", "in"], "glareType": "String", "maxLength": 255, "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$", "readOnly": true, "sortable": true, "type": "string"},
            "metadata": {"additionalProperties": {"maxLength": 255, "minLength": 1, "type": "string"}, "default": {}, "description": "Key-value dict with useful information about an artifact.", "filter_ops": ["eq", "neq", "in"], "glareType": "StringDict", "maxProperties": 255, "required_on_activate": false, "type": ["object", "null"]},
            "name": {"description": "Artifact Name.", "filter_ops": ["like", "eq", "neq", "in"], "glareType": "String", "maxLength": 255, "minLength": 1, "required_on_activate": false, "sortable": true, "type": "string"},
            "owner": {"description": "ID of user/tenant who uploaded artifact.", "filter_ops": ["eq", "neq", "in"], "glareType": "String", "maxLength": 255, "readOnly": true, "required_on_activate": false, "sortable": true, "type": "string"},
            "status": {"default": "drafted", "description": "Artifact status.", "enum": ["drafted", "active", "deactivated", "deleted"], "filter_ops": ["eq", "neq", "in"], "glareType": "String", "mutable": true, "sortable": true, "type": "string"},
            "tags": {"default": [], "description": "List of tags added to Artifact.", "filter_ops": [], "glareType": "StringList", "items": {"maxLength": 255, "minLength": 1, "pattern": "^[^,/]+$", "type": "string"}, "maxItems": 255, "mutable": true, "required_on_activate": false, "type": ["array", "null"], "uniqueItems": true},
            "updated_at": {"description": "Datetime when artifact has been updated last time.", "filter_ops": ["lt", "gt"], "format": "date-time", "glareType": "DateTime", "mutable": true, "readOnly": true, "sortable": true, "type": "string"},
            "version": {"default": "0.0.0", "description": "Artifact version(semver).", "filter_ops": ["eq", "neq", "in", "gt", "gte", "lt", "lte"], "glareType": "String", "pattern": "/^([0-9]+)\\.([0-9]+)\\.([0-9]+)(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?(?:\\+[0-9A-Za-z-]+)?$/", "required_on_activate": false, "sortable": true, "type": "string"},
            "visibility": {"default": "private", "description": "Artifact visibility that defines if artifact can be available to other users.", "enum": ["private", "public"], "filter_ops": ["eq", "neq", "in"], "glareType": "String", "mutable": true, "sortable": true, "type": "string"}
        }
        """#
}
