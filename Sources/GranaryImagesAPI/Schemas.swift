import Foundation
import GranaryHTTP

/// The JSON schemas of `/v2/schemas/*` (Glance: glance/api/v2/router.py), as glanceclient validates against them:
/// enums, patterns, `additionalProperties: string` and `is_base: false` on the custom properties
/// from Glance's `etc/schema-image.json`. They must match what the API returns.
enum Schemas {
    static let uuidPattern = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"

    static let imageProperties = """
        "id": {"type": "string", "description": "An identifier for the image", "pattern": "\(uuidPattern)"},
        "name": {"type": ["null", "string"], "description": "Descriptive name for the image", "maxLength": 255},
        "status": {"type": "string", "readOnly": true, "description": "Status of the image",
          "enum": ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"]},
        "visibility": {"type": "string", "description": "Scope of image accessibility", "enum": ["community", "public", "private", "shared"]},
        "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
        "os_hidden": {"type": "boolean", "description": "If true, image will not appear in default image list response."},
        "checksum": {"type": ["null", "string"], "readOnly": true, "description": "md5 hash of image contents.", "maxLength": 32},
        "os_hash_algo": {"type": ["null", "string"], "readOnly": true, "description": "Algorithm to calculate the os_hash_value", "maxLength": 64},
        "os_hash_value": {"type": ["null", "string"], "readOnly": true,
          "description": "Hexdigest of the image contents using the algorithm specified by the os_hash_algo", "maxLength": 128},
        "owner": {"type": ["null", "string"], "description": "Owner of the image", "maxLength": 255},
        "size": {"type": ["null", "integer"], "readOnly": true, "description": "Size of image file in bytes"},
        "virtual_size": {"type": ["null", "integer"], "readOnly": true, "description": "Virtual size of image in bytes"},
        "container_format": {"type": ["null", "string"], "description": "Format of the container",
          "enum": [null, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]},
        "disk_format": {"type": ["null", "string"], "description": "Format of the disk",
          "enum": [null, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]},
        "created_at": {"type": "string", "readOnly": true, "description": "Date and time of image registration"},
        "updated_at": {"type": "string", "readOnly": true, "description": "Date and time of the last image modification"},
        "tags": {"type": "array", "description": "List of strings related to the image", "items": {"type": "string", "maxLength": 255}},
        "direct_url": {"type": "string", "readOnly": true, "description": "URL to access the image file kept in external store"},
        "min_ram": {"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
        "min_disk": {"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
        "self": {"type": "string", "readOnly": true, "description": "An image self url"},
        "file": {"type": "string", "readOnly": true, "description": "An image file url"},
        "stores": {"type": "string", "readOnly": true, "description": "Store in which image data resides."},
        "schema": {"type": "string", "readOnly": true, "description": "An image schema url"},
        "locations": {"type": "array", "description": "A set of URLs to access the image file kept in external store",
          "items": {"type": "object", "properties": {"url": {"type": "string", "maxLength": 255}, "metadata": {"type": "object"},
            "validation_data": {"type": "object", "additionalProperties": false, "properties": {
              "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
              "os_hash_algo": {"type": "string", "maxLength": 64}, "os_hash_value": {"type": "string", "maxLength": 128}},
              "required": ["os_hash_algo", "os_hash_value"]}},
          "required": ["url", "metadata"]}},
        "kernel_id": {"type": ["null", "string"], "pattern": "\(uuidPattern)",
          "description": "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.", "is_base": false},
        "ramdisk_id": {"type": ["null", "string"], "pattern": "\(uuidPattern)",
          "description": "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.", "is_base": false},
        "instance_uuid": {"type": "string", "description": "Metadata which can be used to record which instance this image is associated with.", "is_base": false},
        "architecture": {"type": "string", "description": "Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html", "is_base": false},
        "os_distro": {"type": "string", "description": "Common name of operating system distribution", "is_base": false},
        "os_version": {"type": "string", "description": "Operating system version as specified by the distributor", "is_base": false},
        "description": {"type": "string", "description": "A human-readable string describing this image.", "is_base": false},
        "cinder_encryption_key_id": {"type": "string", "description": "Identifier in the OpenStack Key Management Service for the encryption key.", "is_base": false},
        "cinder_encryption_key_deletion_policy": {"type": "string", "enum": ["on_image_deletion", "do_not_delete"],
          "description": "States the condition under which the Image Service will delete the object associated with the 'cinder_encryption_key_id'.", "is_base": false}
        """

    static let image = """
        {"name": "image", "properties": {\(imageProperties)}, "additionalProperties": {"type": "string"},
         "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"}, {"rel": "describedby", "href": "{schema}"}]}
        """

    static let images = """
        {"name": "images", "properties": {"images": {"type": "array", "items": \(image)},
         "first": {"type": "string"}, "next": {"type": "string"}, "schema": {"type": "string"}},
         "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, {"rel": "describedby", "href": "{schema}"}]}
        """

    static let memberProperties = """
        "member_id": {"type": "string", "description": "An identifier for the image member (tenantId)"},
        "image_id": {"type": "string", "description": "An identifier for the image", "pattern": "\(uuidPattern)"},
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
        "id": {"type": "string", "description": "An identifier for the task", "pattern": "\(uuidPattern)"},
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
