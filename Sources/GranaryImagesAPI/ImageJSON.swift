import Foundation
import GranaryHTTP
import GranaryIndex

/// The image as Glance's serializer shows it (Glance: glance/api/v2/images.py, `get_base_properties`): base attributes always present
/// (null when unset), custom properties only when set, links relative; keys sorted.
enum ImageJSON {
    /// Writes `image` as one JSON object.
    static func write(_ image: ImageRecord, to json: inout JSONWriter) {
        // Base attributes and custom properties share one sorted key space (properties can
        // never take a base attribute's name: those are reserved).
        let keys = (baseKeys + image.properties.keys).sorted()
        json.beginObject()
        for key in keys {
            switch key {
            case "checksum": json.field(key, image.checksum)
            case "container_format": json.field(key, image.containerFormat)
            case "created_at": json.field(key, timestamp(image.createdAt))
            case "disk_format": json.field(key, image.diskFormat)
            case "file": json.field(key, "/v2/images/\(image.id)/file")
            case "id": json.field(key, image.id)
            case "min_disk": json.field(key, image.minDisk)
            case "min_ram": json.field(key, image.minRam)
            case "name": json.field(key, image.name)
            case "os_hash_algo": json.field(key, image.osHashAlgo)
            case "os_hash_value": json.field(key, image.osHashValue)
            case "os_hidden": json.field(key, image.osHidden)
            case "owner": json.field(key, image.owner)
            case "protected": json.field(key, image.protected)
            case "schema": json.field(key, "/v2/schemas/image")
            case "self": json.field(key, "/v2/images/\(image.id)")
            case "size": json.field(key, image.size)
            case "status": json.field(key, image.status.rawValue)
            case "tags":
                json.key(key)
                json.beginArray()
                for tag in image.tags { json.string(tag) }
                json.endArray()
            case "updated_at": json.field(key, timestamp(image.updatedAt))
            case "virtual_size": json.field(key, image.virtualSize)
            case "visibility": json.field(key, image.visibility.rawValue)
            default: json.field(key, image.properties[key])
            }
        }
        json.endObject()
    }

    static let baseKeys = [
        "checksum", "container_format", "created_at", "disk_format", "file", "id", "min_disk", "min_ram", "name",
        "os_hash_algo", "os_hash_value", "os_hidden", "owner", "protected", "schema", "self", "size", "status", "tags",
        "updated_at", "virtual_size", "visibility",
    ]

    /// One image as a JSON document.
    static func bytes(_ image: ImageRecord) -> [UInt8] {
        var json = JSONWriter()
        write(image, to: &json)
        return json.bytes
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC, whole seconds.
    static func timestamp(_ seconds: Int) -> String { JSONWriter.timestamp(seconds) }

    static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
