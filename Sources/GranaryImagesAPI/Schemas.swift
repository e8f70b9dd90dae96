import Foundation
import GranaryCatalog
import GranaryHTTP

/// The JSON schemas of `/v2/schemas/*` (Glance: glance/api/v2/router.py), as glanceclient validates against them:
/// enums, patterns, `additionalProperties: string` and `is_base: false` on the custom properties
/// from Glance's `etc/schema-image.json`. They must match what the API returns.
enum Schemas {
    static let image = """
        {"name": "image", "properties": {\(ImageSchema.propertiesJSON)}, "additionalProperties": {"type": "string"},
         "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"}, {"rel": "describedby", "href": "{schema}"}]}
        """

    static let images = """
        {"name": "images", "properties": {"images": {"type": "array", "items": \(image)},
         "first": {"type": "string"}, "next": {"type": "string"}, "schema": {"type": "string"}},
         "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, {"rel": "describedby", "href": "{schema}"}]}
        """

    static let memberProperties = """
        "member_id": {"type": "string", "description": "An identifier for the image member (tenantId)"},
        "image_id": {"type": "string", "description": "An identifier for the image", "pattern": "\(ImageSchema.uuidPattern)"},
        "created_at": {"type": "string", "description": "Date and time of image member creation"},
        "updated_at": {"type": "string", "description": "Date and time of last modification of image member"},
        "status": {"type": "string", "description": "The status of this image member", "enum": ["pending", "accepted", "rejected"]},
        "schema": {"type": "string", "readOnly": true}
        """

    static let member = #"{"name": "member", "properties": {\#(memberProperties)}}"#
    static let members = """
        {"name": "members", "properties": {"members": {"type": "array", "items": \(member)}, "schema": {"type": "string"}},
         "links": [{"rel": "describedby", "href": "{schema}"}]}
        """

    static let taskProperties = """
        "id": {"type": "string", "description": "An identifier for the task", "pattern": "\(ImageSchema.uuidPattern)"},
        "type": {"type": "string", "description": "The type of task represented by this content", "enum": ["import", "api_image_import", "location_import"]},
        "status": {"type": "string", "description": "The current status of this task", "enum": ["pending", "processing", "success", "failure"]},
        "input": {"type": ["null", "object"], "description": "The parameters required by task, JSON blob"},
        "result": {"type": ["null", "object"], "description": "The result of current task, JSON blob"},
        "owner": {"type": "string", "description": "An identifier for the owner of this task"},
        "message": {"type": "string", "description": "Human-readable informative message only included when appropriate"},
        "image_id": {"type": "string", "description": "Image associated with the task"},
        "request_id": {"type": "string", "description": "Request ID associated with the task"},
        "user_id": {"type": "string", "description": "User associated with the task"},
        "expires_at": {"type": ["null", "string"], "description": "Datetime when this resource would be subject to removal"},
        "created_at": {"type": "string", "description": "Datetime when this resource was created"},
        "updated_at": {"type": "string", "description": "Datetime when this resource was updated"},
        "self": {"type": "string"}, "schema": {"type": "string"}
        """

    static let task = #"{"name": "task", "properties": {\#(taskProperties)}}"#
    static let tasks = """
        {"name": "tasks", "properties": {"tasks": {"type": "array", "items": \(task)},
         "schema": {"type": "string"}, "first": {"type": "string"}, "next": {"type": "string"}},
         "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, {"rel": "describedby", "href": "{schema}"}]}
        """

    /// Every schema by its path under `/v2/schemas/`.
    static let all: [String: String] = [
        "image": image, "images": images, "member": member, "members": members, "task": task, "tasks": tasks,
    ].merging(Metadefs.all) { a, _ in a }

    /// `/v2/schemas/metadefs/*`: the metadata-definitions entities as the API returns them.
    enum Metadefs {
        static let time = #"{"type": "string", "readOnly": true, "format": "date-time"}"#
        static let property = """
            {"type": "object", "required": ["title", "type"], "properties": {"name": {"type": "string", "maxLength": 255},
            "title": {"type": "string"}, "description": {"type": "string"},
            "type": {"type": "string", "enum": ["array", "boolean", "integer", "number", "object", "string", null]},
            "enum": {"type": "array"}, "default": {}, "readonly": {"type": "boolean"},
            "minimum": {"type": "number"}, "maximum": {"type": "number"}, "minLength": {"type": "integer"},
            "maxLength": {"type": "integer"}, "pattern": {"type": "string", "format": "regex"}, "items": {"type": "object"},
            "operators": {"type": "array", "items": {"type": "string"}}}}
            """
        static let association = """
            {"name": {"type": "string", "maxLength": 80}, "prefix": {"type": "string", "maxLength": 80},
            "properties_target": {"type": "string", "maxLength": 80}, "created_at": \(time), "updated_at": \(time)}
            """
        static let object = """
            {"name": {"type": "string", "maxLength": 80}, "description": {"type": "string"},
            "required": {"type": "array", "items": {"type": "string"}}, "properties": {"type": "object", "additionalProperties": \(property)},
            "schema": {"type": "string", "readOnly": true}, "self": {"type": "string", "readOnly": true},
            "created_at": \(time), "updated_at": \(time)}
            """
        static let tag = #"{"name": {"type": "string", "maxLength": 255}, "created_at": "# + time + #", "updated_at": "# + time + "}"
        static let namespaceProperties = """
            {"namespace": {"type": "string", "maxLength": 80, "description": "The unique namespace text."},
            "display_name": {"type": "string", "maxLength": 80}, "description": {"type": "string", "maxLength": 500},
            "visibility": {"type": "string", "enum": ["public", "private"]}, "protected": {"type": "boolean"},
            "owner": {"type": "string", "maxLength": 255}, "created_at": \(time), "updated_at": \(time),
            "schema": {"type": "string", "readOnly": true}, "self": {"type": "string", "readOnly": true},
            "resource_type_associations": {"type": "array", "items": {"type": "object", "properties": \(association)}},
            "properties": {"type": "object", "additionalProperties": \(property)},
            "objects": {"type": "array", "items": {"type": "object", "properties": \(object)}},
            "tags": {"type": "array", "items": {"type": "object", "properties": \(tag)}}}
            """
        static func collection(_ name: String, _ key: String, _ item: String) -> String {
            """
            {"name": "\(name)", "properties": {"\(key)": {"type": "array", "items": \(item)}, "first": {"type": "string"},
            "next": {"type": "string"}, "schema": {"type": "string"}},
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, {"rel": "describedby", "href": "{schema}"}]}
            """
        }
        static let namespace =
            #"{"name": "namespace", "required": ["namespace"], "additionalProperties": false, "properties": "# + namespaceProperties + "}"
        static let resourceType =
            #"{"name": "resource_type_association", "required": ["name"], "additionalProperties": false, "properties": "# + association + "}"
        static let objectSchema = #"{"name": "object", "required": ["name"], "additionalProperties": false, "properties": "# + object + "}"
        static let propertySchema = property.replacingOccurrences(of: #"{"type": "object", "#, with: #"{"name": "property", "type": "object", "#)
        static let tagSchema = #"{"name": "tag", "required": ["name"], "additionalProperties": false, "properties": "# + tag + "}"
        static let all: [String: String] = [
            "metadefs/namespace": namespace,
            "metadefs/namespaces": collection("namespaces", "namespaces", namespace),
            "metadefs/resource_type": resourceType,
            "metadefs/resource_types": collection("resource_type_associations", "resource_type_associations", resourceType),
            "metadefs/object": objectSchema,
            "metadefs/objects": collection("objects", "objects", objectSchema),
            "metadefs/property": propertySchema,
            "metadefs/properties": #"{"name": "properties", "properties": {"properties": {"type": "object", "additionalProperties": "# + property
                + "}}}",
            "metadefs/tag": tagSchema,
            "metadefs/tags": collection("tags", "tags", tagSchema),
        ]
    }
}
