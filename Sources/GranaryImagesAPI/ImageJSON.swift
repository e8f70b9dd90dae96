import Foundation
import GranaryIndex

/// The image as Glance's serializer shows it (reference §4): base attributes always present
/// (null when unset), custom properties only when set, links relative.
enum ImageJSON {
    static func object(_ image: ImageRecord) -> [String: Any] {
        var object: [String: Any] = [:]
        for (key, value) in image.properties { object[key] = value }
        func nullable(_ value: Any?) -> Any { value ?? NSNull() }
        object["id"] = image.id
        object["name"] = nullable(image.name)
        object["status"] = image.status
        object["visibility"] = image.visibility
        object["protected"] = image.protected
        object["os_hidden"] = image.osHidden
        object["checksum"] = nullable(image.checksum)
        object["os_hash_algo"] = nullable(image.osHashAlgo)
        object["os_hash_value"] = nullable(image.osHashValue)
        object["owner"] = nullable(image.owner)
        object["size"] = nullable(image.size)
        object["virtual_size"] = nullable(image.virtualSize)
        object["container_format"] = nullable(image.containerFormat)
        object["disk_format"] = nullable(image.diskFormat)
        object["min_disk"] = image.minDisk
        object["min_ram"] = image.minRam
        object["tags"] = image.tags
        object["created_at"] = timestamp(image.createdAt)
        object["updated_at"] = timestamp(image.updatedAt)
        object["self"] = "/v2/images/\(image.id)"
        object["file"] = "/v2/images/\(image.id)/file"
        object["schema"] = "/v2/schemas/image"
        return object
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC, whole seconds.
    static func timestamp(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
