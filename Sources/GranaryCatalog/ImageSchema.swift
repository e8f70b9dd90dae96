import Foundation
import GranaryParsing

/// The image schema Glance serves at `/v2/schemas/image` (glance/api/v2/images.py,
/// `get_base_properties`, and `etc/schema-image.json`'s custom properties) and the checks it
/// implies, from the one text: what clients fetch is what the server enforces on create and
/// patch (types, enums, lengths, patterns, minimums, `readOnly`).
package enum ImageSchema {
    package static let uuidPattern = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"

    package static let propertiesJSON = """
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

    /// The properties, parsed once.
    static let properties: [String: JSONValue] = {
        // checked: the literal above is valid JSON (SchemasTests parses every schema)
        guard case .object(let properties) = try! JSONText.parse(Array("{\(propertiesJSON)}".utf8)) else { return [:] }
        return properties
    }()

    /// The schema's read-only attributes (403 on create and patch).
    static let readOnly: Set<String> = Set(
        properties.compactMap { key, schema in
            guard case .object(let keywords) = schema, keywords["readOnly"] == .bool(true) else { return nil }
            return key
        })

    /// Checks `value` of attribute `key` against its schema (a custom property's is a string).
    static func check(_ key: String, _ value: JSONValue) throws(CatalogError) {
        if let problem = SchemaCheck.problem(value, properties[key] ?? .object(["type": .string("string")])) {
            throw CatalogError(.badRequest, "Invalid value for '\(key)': \(problem)")
        }
    }
}
